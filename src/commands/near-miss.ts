/**
 * Which command a lone mistyped word most likely meant (`/forge stauts` → `status`). Pure and cheap:
 * a handful of fixed command words, and words longer than 30 characters are never near-misses.
 */

/** Every command word, in the order a tie prefers. */
export const COMMAND_WORDS = [
  'help',
  'status',
  'stop',
  'continue',
  'plan',
  'approve',
  'address-reviews',
] as const;
export type CommandWord = (typeof COMMAND_WORDS)[number];

const MAX_EDITS = 2;
/** A shorter start (`st`, `a`) fits too many commands and too many words to mean one. */
const MIN_PREFIX = 3;

/**
 * The command `word` is, or nearly is: itself (any case), one it starts (`stat` → `status`, at
 * least three letters), or the closest within two edits (one when either is four letters or
 * fewer) — insertions, deletions, substitutions and swaps of neighbours (Damerau-Levenshtein,
 * optimal string alignment), case-insensitive.
 */
export function nearestCommand(word: string): CommandWord | undefined {
  const w = word.toLowerCase();
  if (w.length === 0 || w.length > 30 || !/^[a-z][a-z_-]*$/.test(w)) return undefined;
  let best: CommandWord | undefined;
  let bestScore = MAX_EDITS + 1;
  for (const command of COMMAND_WORDS) {
    if (w === command) return command;
    const score = w.length >= MIN_PREFIX && command.startsWith(w) ? 0 : editDistance(w, command);
    // Two edits turn most short words into a short command (`ship` → `stop`): one at most there.
    if (score > allowedEdits(w, command)) continue;
    if (score < bestScore) {
      best = command;
      bestScore = score;
    }
  }
  return best;
}

function allowedEdits(word: string, command: string): number {
  return Math.min(word.length, command.length) <= 4 ? 1 : MAX_EDITS;
}

/** Optimal string alignment distance, or MAX_EDITS + 1 when it is certainly larger. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_EDITS) return MAX_EDITS + 1;
  // rows[i][j]: edits between the first i characters of a and the first j of b.
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const above = rows[i - 1]!;
      let d = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return Math.min(rows[a.length]![b.length]!, MAX_EDITS + 1);
}

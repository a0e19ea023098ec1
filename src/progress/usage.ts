import type { Usage } from '../agents/types.js';
import type { Task, Turn } from '../tasks/types.js';

/**
 * Tokens and cost of the turn (as the model gateway measured them) and of the whole task so far.
 * The task's total shows whenever the task used anything, also on a turn that used nothing itself
 * (e.g. one a budget cap refused before it started).
 */
export function usageLine(task: Task, turn: Turn): string | undefined {
  const u = turn.usage;
  const others = task.turns.filter((t) => t.usage && t.n !== turn.n);
  if (!u && !others.length) return undefined;
  const all = u ? [turn, ...others] : others;
  const cost = all.reduce((sum, t) => sum + (t.usage?.costUsd ?? 0), 0);
  const tokens = all.reduce((sum, t) => sum + (t.usage ? t.usage.inputTokens + t.usage.outputTokens : 0), 0);
  const total = `${compact(tokens)} tokens${cost > 0 ? `, ${money(cost)}` : ''}`;
  // A queued turn, one before its first model request, or one a cap refused: the task's spend so far.
  if (!u) return `🪙 task so far: ${total}`;
  const turnPart = `${compact(u.inputTokens)} tokens in, ${compact(u.outputTokens)} out${u.costUsd !== undefined ? `, ${money(u.costUsd)}` : ''}`;
  return `🪙 ${turnPart} · task: ${total}`;
}

/** One turn's tokens and cost in a few words, e.g. `842 tokens, $0.84`. */
export function turnSpend(u: Usage): string {
  const cost = u.costUsd !== undefined ? `, ${money(u.costUsd)}` : '';
  return `${compact(u.inputTokens + u.outputTokens)} tokens${cost}`;
}

export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function money(usd: number): string {
  return usd < 0.01 && usd > 0 ? '<$0.01' : `$${usd.toFixed(2)}`;
}

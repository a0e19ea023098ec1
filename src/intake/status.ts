import type { ForgeWords } from '../forge/types.js';
import { compact, money, oneLine } from '../progress/render.js';
import { queuedInOrder } from '../tasks/transitions.js';
import type { Task, Turn } from '../tasks/types.js';

const STATE_WORDS: Record<Task['state'], string> = {
  queued: 'queued',
  running: 'running',
  awaiting_instruction: 'waiting for your next instruction',
  closed: 'closed',
};

/**
 * The answer to `/forge status`: the task's state, each turn with its tokens and cost (as the
 * model gateway measured them), the totals so far, and the queue in the order it will run. Pure.
 */
export function renderStatus(task: Task | undefined, words: ForgeWords, logUrl?: string): string {
  if (!task)
    return 'There is no Forge task here yet. Comment `/forge <instruction>` to start one, or `/forge help` for more.';
  const lines = [`**Forge task** \`${task.id}\` is ${STATE_WORDS[task.state]}.`];
  if (task.changeRequest)
    lines.push(
      `${words.changeRequestShort}: ${words.changeRequestRef(task.changeRequest.number)}${task.branch ? ` (branch \`${task.branch}\`)` : ''}`,
    );
  lines.push(
    '',
    '| Turn | State | Asked by | Instruction | Commit | Tokens (in / out) | Cost |',
    '|---|---|---|---|---|---|---|',
  );
  for (const t of task.turns) {
    const u = t.usage;
    lines.push(
      `| ${t.n} | ${t.state}${t.mode ? ` (${t.mode.replace('_', ' ')})` : ''} | @${t.requestedBy} | ${cell(t.instruction)} | ${t.commitSha ? `\`${t.commitSha.slice(0, 7)}\`` : '—'} | ${u ? `${compact(u.inputTokens)} / ${compact(u.outputTokens)}` : '—'} | ${u?.costUsd !== undefined ? money(u.costUsd) : '—'} |`,
    );
  }
  lines.push('', totals(task.turns));
  const running = task.turns.find((t) => t.state === 'running');
  const waiting = queuedInOrder(task);
  if (running) lines.push('', `**Running:** turn ${running.n}, asked by @${running.requestedBy}.`);
  if (waiting.length) {
    lines.push('', `**Waiting in line (${waiting.length}), in the order they will run:**`);
    waiting.forEach((t, i) => {
      lines.push(
        `${i + 1}. Turn ${t.n}, asked by @${t.requestedBy}: ${oneLine(t.instruction, 80).replace(/`/g, "'")}`,
      );
    });
  } else if (!running) {
    lines.push('', 'Nothing is waiting.');
  }
  if (logUrl) lines.push('', `[Full log](${logUrl})`);
  return lines.join('\n');
}

function totals(turns: Turn[]): string {
  const measured = turns.filter((t) => t.usage);
  if (!measured.length)
    return `**So far:** ${turns.length} turn${turns.length === 1 ? '' : 's'}; no model usage measured yet.`;
  const input = measured.reduce((sum, t) => sum + (t.usage?.inputTokens ?? 0), 0);
  const output = measured.reduce((sum, t) => sum + (t.usage?.outputTokens ?? 0), 0);
  const priced = measured.filter((t) => t.usage?.costUsd !== undefined);
  const cost = priced.reduce((sum, t) => sum + (t.usage?.costUsd ?? 0), 0);
  const unpriced = measured.length - priced.length;
  const costText = priced.length
    ? `${money(cost)}${unpriced ? ` (plus ${unpriced} turn${unpriced === 1 ? '' : 's'} without a known price)` : ''}`
    : 'cost unknown (no known price)';
  return `**So far:** ${turns.length} turn${turns.length === 1 ? '' : 's'} · ${compact(input + output)} tokens (${compact(input)} in, ${compact(output)} out) · ${costText}`;
}

/** A table cell: one line, no pipes. */
function cell(text: string): string {
  return oneLine(text, 60).replace(/\|/g, '\\|');
}

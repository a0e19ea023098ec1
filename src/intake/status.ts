import type { ForgeWords } from '../forge/types.js';
import { oneLine } from '../progress/render.js';
import type { Task } from '../tasks/types.js';

const STATE_WORDS: Record<Task['state'], string> = {
  queued: 'queued',
  running: 'running',
  awaiting_instruction: 'waiting for your next instruction',
  closed: 'closed',
};

/** The answer to `/forge status`. Pure. */
export function renderStatus(task: Task | undefined, words: ForgeWords, logUrl?: string): string {
  if (!task)
    return 'There is no Forge task here yet. Comment `/forge <instruction>` to start one, or `/forge help` for more.';
  const lines = [`**Forge task** \`${task.id}\` is ${STATE_WORDS[task.state]}.`];
  if (task.changeRequest)
    lines.push(
      `${words.changeRequestShort}: ${words.changeRequestRef(task.changeRequest.number)}${task.branch ? ` (branch \`${task.branch}\`)` : ''}`,
    );
  lines.push('', '| Turn | State | Asked by | Instruction | Commit |', '|---|---|---|---|---|');
  for (const t of task.turns) {
    lines.push(
      `| ${t.n} | ${t.state} | @${t.requestedBy} | ${oneLine(t.instruction, 60).replace(/\|/g, '\\|')} | ${t.commitSha ? `\`${t.commitSha.slice(0, 7)}\`` : '—'} |`,
    );
  }
  const waiting = task.turns.filter((t) => t.state === 'queued').length;
  if (waiting) lines.push('', `${waiting} turn${waiting > 1 ? 's' : ''} waiting in line.`);
  if (logUrl) lines.push('', `[Full log](${logUrl})`);
  return lines.join('\n');
}

import type { ForgeWords } from '../forge/types.js';
import type { CapKind } from '../tasks/budget.js';
import { fenced } from '../tasks/quote.js';
import type { Task, Turn } from '../tasks/types.js';
import { capitalize, oneLine } from './text.js';

/**
 * How a finished turn ended, for the sticky comment and the check run. A turn that did not
 * complete (stopped, a cap, a time limit, a failure) says what was done, what remains and how to
 * continue. Pure.
 */
export function renderOutcome(task: Task, turn: Turn, words: ForgeWords): string[] {
  if (turn.mode === 'plan') return renderPlanOutcome(turn);
  if (turn.state === 'failed' || turn.state === 'cancelled') return renderInterrupted(task, turn, words);
  const out: string[] = [];
  const cr = task.changeRequest;
  if (turn.state === 'completed') {
    if (turn.noChanges)
      out.push(
        '',
        `The agent finished without changing any file, so there is no new commit${cr ? '' : ` and no ${words.changeRequest}`}.`,
      );
    else if (cr)
      out.push(
        '',
        `**${capitalize(words.changeRequest)}:** ${words.changeRequestRef(cr.number)} — ${cr.url}`,
      );
  }
  out.push(...notPushed(turn, words));
  if (turn.summary && turn.state === 'completed')
    out.push('', '<details><summary>Agent summary</summary>', '', turn.summary, '', '</details>');
  return out;
}

function renderInterrupted(task: Task, turn: Turn, words: ForgeWords): string[] {
  const cr = task.changeRequest;
  const out: string[] = [];
  if (turn.error) out.push('', `**What happened:** ${turn.error}`);
  const done = turn.commitSha
    ? `The work so far is kept: commit \`${turn.commitSha.slice(0, 7)}\` on \`${task.branch}\`${cr ? ` (${words.changeRequestRef(cr.number)})` : ''}.`
    : turn.noChanges
      ? 'The agent changed no file, so there is no commit.'
      : 'Nothing was committed.';
  out.push('', `**What was done:** ${done}`, ...notPushed(turn, words));
  // For a run stopped before it summed up, this is the agent's last message.
  if (turn.summary)
    out.push('', "<details><summary>The agent's last message</summary>", '', turn.summary, '', '</details>');
  // A rejected push follows a finished agent: what remains is the push, which the error explains.
  if (turn.endReason !== 'push_rejected') {
    out.push('', `**What remains:** the agent did not finish “${oneLine(turn.instruction, 160)}”.`);
    const todo = turn.summary ? remainingItems(turn.summary) : undefined;
    if (todo)
      out.push('', 'What the agent noted as left to do (written by the agent):', fenced('text', todo));
  }
  const raise = raiseLimitHint(task, turn, words);
  out.push(
    '',
    `**How to continue:** comment \`/forge continue\` to pick up where it stopped${turn.commitSha ? ' (from that commit)' : ''}, or \`/forge <instruction>\` to ask for something else.${raise ? ` ${raise}` : ''}`,
  );
  return out;
}

function notPushed(turn: Turn, words: ForgeWords): string[] {
  if (!turn.excludedPaths?.length) return [];
  return [
    '',
    `**Not pushed:** ${words.unpushable?.why ?? 'the host would not accept these files from Forge'}, so these were left out: ${turn.excludedPaths.map((p) => `\`${p}\``).join(', ')}.`,
  ];
}

/** A repository setting (`limits.<key>` in the settings file) and the operator bound it stays within. */
interface LimitSetting {
  repoKey?: string;
  env: string;
}

const CAP_SETTINGS: Record<CapKind, LimitSetting> = {
  agent_steps: { repoKey: 'maxAgentSteps', env: 'FORGE_MAX_AGENT_STEPS' },
  task_cost: { repoKey: 'maxTaskCostUsd', env: 'FORGE_MAX_TASK_COST_USD' },
  task_tokens: { repoKey: 'maxTaskTokens', env: 'FORGE_MAX_TASK_TOKENS' },
  repo_daily_cost: { repoKey: 'maxRepoDailyCostUsd', env: 'FORGE_MAX_REPO_DAILY_COST_USD' },
};

/** The setting that would have let the turn go on. */
function limitSetting(turn: Turn): LimitSetting | undefined {
  switch (turn.endReason) {
    case 'timeout':
      return { repoKey: 'turnTimeout', env: 'FORGE_TURN_TIMEOUT' };
    case 'idle_timeout':
      return { repoKey: 'idleTimeout', env: 'FORGE_IDLE_TIMEOUT' };
    case 'limit': {
      if (turn.limit) return CAP_SETTINGS[turn.limit];
      // Turns stored before `limit` was recorded: told apart by their message (src/tasks/budget.ts).
      const error = turn.error ?? '';
      if (/agent steps/.test(error)) return { repoKey: 'maxAgentSteps', env: 'FORGE_MAX_AGENT_STEPS' };
      if (/daily model budget/.test(error)) return { env: 'FORGE_MAX_REPO_DAILY_COST_USD' };
      if (/model budget/.test(error)) return { repoKey: 'maxTaskCostUsd', env: 'FORGE_MAX_TASK_COST_USD' };
      if (/tokens/.test(error)) return { env: 'FORGE_MAX_TASK_TOKENS' };
      return undefined;
    }
    default:
      return undefined;
  }
}

function raiseLimitHint(task: Task, turn: Turn, words: ForgeWords): string | undefined {
  const setting = limitSetting(turn);
  // Messages of caps reached before a turn starts already name who can raise what.
  if (!setting || turn.error?.includes(setting.env)) return undefined;
  if (!setting.repoKey) return `To allow more, an operator can raise \`${setting.env}\`.`;
  return `To allow more, raise \`limits.${setting.repoKey}\` in \`${words.settingsPath}\` on \`${task.repo.defaultBranch}\`, within the operator's \`${setting.env}\` (which an operator can raise).`;
}

const CHECKLIST_OPEN = /^\s*[-*+]\s+\[ \]\s+\S/;
const CHECKLIST_DONE = /^\s*[-*+]\s+\[[xX]\]/;
const TODO_LINE = /^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:TODO|FIXME)\b/;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+\S/;
/** A short line that heads a list of what is left: "Next steps:", "## Remaining", "**TODO**". */
const LEFT_HEADING =
  /^\s*(?:#{1,6}\s*)?(?:\*\*|__)?(?:todo|to do|next steps?|remaining(?: work| steps| tasks)?|still to do|left to do|what remains|not done yet)\b[^\n]{0,40}$/i;

/**
 * What an agent's message lists as left to do: open checklist items, TODO lines, and the list
 * under a "Next steps" / "Remaining" / "TODO" line. Undefined when it lists nothing.
 */
export function remainingItems(text: string, maxLines = 20): string | undefined {
  const picked: string[] = [];
  let underHeading = false;
  for (const line of text.split('\n')) {
    if (CHECKLIST_OPEN.test(line) || TODO_LINE.test(line)) {
      picked.push(line.trimEnd());
    } else if (LEFT_HEADING.test(line)) {
      underHeading = true;
    } else if (underHeading && LIST_ITEM.test(line) && !CHECKLIST_DONE.test(line)) {
      picked.push(line.trimEnd());
    } else if (line.trim()) {
      underHeading = false;
    }
  }
  if (!picked.length) return undefined;
  const shown = picked.slice(0, maxLines).map((l) => (l.length > 300 ? `${l.slice(0, 299)}…` : l));
  if (picked.length > maxLines) shown.push(`… and ${picked.length - maxLines} more`);
  return shown.join('\n');
}

/** A plan turn's outcome: the plan itself, and what to do with it. */
function renderPlanOutcome(turn: Turn): string[] {
  const out: string[] = [];
  if (turn.state === 'completed') {
    if (turn.summary) {
      out.push(
        '',
        '### Plan',
        '',
        '_Written by the agent; nothing was changed or committed._',
        '',
        turn.summary,
        '',
        'Comment `/forge approve` to carry out this plan, `/forge approve <changes>` to carry it out with changes (answers to its questions go here too), or `/forge plan <instruction>` for a new plan.',
      );
    } else {
      out.push(
        '',
        'The agent finished without writing a plan. Comment `/forge plan <instruction>` to ask again.',
      );
    }
  }
  if (turn.state === 'failed' || turn.state === 'cancelled') {
    if (turn.error) out.push('', `**What happened:** ${turn.error}`);
    out.push(
      '',
      'Nothing was committed. Comment `/forge continue` to plan again, or `/forge plan <instruction>` for a new plan.',
    );
  }
  if (turn.discardedPaths?.length) {
    const shown = turn.discardedPaths.slice(0, 20).map((p) => `\`${p}\``);
    if (turn.discardedPaths.length > shown.length)
      shown.push(`and ${turn.discardedPaths.length - shown.length} more`);
    out.push(
      '',
      `**Left out:** the agent changed files although a plan turn changes nothing; Forge committed none of them: ${shown.join(', ')}.`,
    );
  }
  return out;
}

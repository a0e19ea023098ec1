import { formatDuration } from '../config/duration.js';
import type { ForgeWords } from '../forge/types.js';
import type { Task, Turn } from '../tasks/types.js';
import { renderOutcome } from './outcome.js';
import { oneLine } from './text.js';
import { turnSpend, usageLine } from './usage.js';

export { remainingItems } from './outcome.js';
export { oneLine } from './text.js';
export { compact, money, usageLine } from './usage.js';

/** Pure markdown rendering for the sticky comment and the check run. */

export type Phase = 'queued' | 'preparing' | 'agent' | 'pushing' | 'change_request' | 'finished';

export interface TurnView {
  phase: Phase;
  /** Latest thing the agent did, one line. */
  activity?: string;
  /** Waiting turns ahead of this one (0 = next). */
  ahead?: number;
  now: Date;
  logUrl?: string;
}

/** One sticky comment per task and per issue/change request it talks on. */
export function stickyMarker(taskId: string, number: number): string {
  return `<!-- forge:task:${taskId}:${number} -->`;
}

const STATE_TITLE: Record<Turn['state'], string> = {
  queued: '⏳ Queued',
  running: '🔨 Working',
  completed: '✅ Done',
  failed: '❌ Failed',
  cancelled: '⏹️ Stopped',
};

const STEPS: { phase: Phase; label: (w: ForgeWords) => string }[] = [
  { phase: 'preparing', label: () => 'Prepare a checkout' },
  { phase: 'agent', label: () => 'Agent works on the instruction' },
  { phase: 'pushing', label: () => 'Commit and push' },
  { phase: 'change_request', label: (w) => `Open or update the ${w.changeRequest}` },
];

/** A plan turn proposes; it ends without a commit or a change request. */
const PLAN_STEPS: typeof STEPS = [
  { phase: 'preparing', label: () => 'Prepare a checkout' },
  { phase: 'agent', label: () => 'Agent writes a plan (no changes)' },
];

function stateTitle(turn: Turn): string {
  if (turn.mode === 'plan' && turn.state === 'completed') return '📝 Plan ready';
  if (turn.mode === 'plan' && turn.state === 'running') return '🧭 Planning';
  return STATE_TITLE[turn.state];
}

export function renderSticky(task: Task, turn: Turn, view: TurnView, words: ForgeWords): string {
  const lines = [stickyMarker(task.id, turn.place.number), `### Forge · ${stateTitle(turn)}`, ''];
  lines.push(`> ${oneLine(turn.instruction, 200)}`, '');
  const kind =
    turn.mode === 'plan'
      ? ' · plan only'
      : turn.approvedPlan
        ? ` · runs the plan of turn ${turn.approvedPlan.turn}${turn.approvedPlan.edits ? ', with changes' : ''}`
        : turn.mode === 'address_reviews'
          ? ` · addresses ${turn.reviewThreads ? `${turn.reviewThreads.length} unresolved review thread${turn.reviewThreads.length === 1 ? '' : 's'}` : 'the unresolved review threads'}`
          : '';
  const continues = turn.continues
    ? ` · continues turn ${turn.continues.turn}${turn.continues.commitSha ? ` from \`${turn.continues.commitSha.slice(0, 7)}\`` : ''}`
    : '';
  lines.push(
    `Turn ${turn.n}, asked by @${turn.requestedBy}${kind}${continues}${task.branch && turn.mode !== 'plan' ? ` · branch \`${task.branch}\`` : ''}`,
    '',
  );
  if (turn.state === 'queued') {
    lines.push(
      view.ahead
        ? `Waiting for ${view.ahead} earlier turn${view.ahead > 1 ? 's' : ''} of this task to finish.`
        : 'Starting soon.',
    );
  } else {
    lines.push(...renderSteps(turn, view, words));
  }
  const elapsed = turn.startedAt
    ? (turn.finishedAt ? Date.parse(turn.finishedAt) : view.now.getTime()) - Date.parse(turn.startedAt)
    : 0;
  const footer = [
    turn.startedAt ? `⏱ ${formatDuration(Math.max(0, elapsed))}` : undefined,
    usageLine(task, turn),
    view.logUrl ? `[log](${view.logUrl})` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  if (footer) lines.push('', footer);
  lines.push(...renderOutcome(task, turn, words));
  const earlier = task.turns.filter((t) => t.n < turn.n);
  if (earlier.length) {
    lines.push('', '<details><summary>Earlier turns</summary>', '');
    for (const t of earlier)
      lines.push(
        `- Turn ${t.n} (${t.mode === 'plan' ? 'plan, ' : ''}${t.state}${t.commitSha ? `, ${t.commitSha.slice(0, 7)}` : ''}): ${oneLine(t.instruction, 80)}`,
      );
    lines.push('', '</details>');
  }
  return lines.join('\n');
}

function renderSteps(turn: Turn, view: TurnView, words: ForgeWords): string[] {
  const steps = turn.mode === 'plan' ? PLAN_STEPS : STEPS;
  const current = steps.findIndex((s) => s.phase === view.phase);
  const finished = view.phase === 'finished';
  return steps.map((step, i) => {
    const done = finished ? turn.state === 'completed' || i < lastReached(turn) : i < current;
    const active = !finished && i === current;
    const suffix =
      active && step.phase === 'agent' && view.activity ? ` — ${oneLine(view.activity, 120)}` : '';
    return `- [${done ? 'x' : ' '}] ${step.label(words)}${active ? ' …' : ''}${suffix}`;
  });
}

/** For a turn that ended early, how far it got (used to tick the checklist honestly). */
function lastReached(turn: Turn): number {
  if (turn.commitSha) return 3;
  if (turn.startedAt) return 1;
  return 0;
}

export function renderCheckSummary(
  task: Task,
  turn: Turn,
  view: TurnView,
  words: ForgeWords,
): { title: string; summary: string } {
  // The title is all GitLab shows of a check (a commit status's description): the turn's spend
  // goes there too once it ended.
  const spent = turn.usage ? ` · ${turnSpend(turn.usage)}` : '';
  const title =
    turn.state === 'running'
      ? `Turn ${turn.n}: ${view.phase === 'agent' ? 'agent working' : view.phase}`
      : `Turn ${turn.n}: ${turn.state}${spent}`;
  const body = renderSticky(task, turn, view, words).split('\n').slice(1).join('\n');
  return { title, summary: body };
}

export function renderPullRequestBody(task: Task, turn: Turn, words: ForgeWords): string {
  const lines = [
    `Closes ${words.issueRef(task.issueNumber)}`,
    '',
    `Requested by @${turn.requestedBy} in ${words.issueRef(task.issueNumber)}: ${oneLine(turn.instruction, 300)}`,
  ];
  const unfinished = turn.state === 'cancelled' || turn.state === 'failed';
  if (turn.summary)
    lines.push('', unfinished ? '### Where the agent stopped' : '### What the agent did', '', turn.summary);
  if (unfinished)
    lines.push(
      '',
      `The latest turn did not finish${turn.error ? ` (${oneLine(turn.error, 200)})` : ''}; its work so far is on this branch. Comment \`/forge continue\` to pick up from there.`,
    );
  const usage = usageLine(task, turn);
  if (usage)
    lines.push(
      '',
      `<sub>${usage}${turn.options.agent ? ` · ${turn.options.agent}` : ''}${turn.options.model ? ` (${turn.options.model})` : ''}</sub>`,
    );
  if (turn.excludedPaths?.length) {
    lines.push(
      '',
      `Left out (${words.unpushable?.why ?? 'the host would not accept them from Forge'}): ${turn.excludedPaths.map((p) => `\`${p}\``).join(', ')}`,
    );
  }
  lines.push(
    '',
    `<sub>Opened by Forge · task \`${task.id}\`. Comment \`/forge <instruction>\` here to ask for changes.</sub>`,
  );
  return lines.join('\n');
}

/** The short answer posted in the review thread a turn was asked in. */
export function renderThreadReply(task: Task, turn: Turn, words: ForgeWords): string {
  const sha = turn.commitSha ? `\`${turn.commitSha.slice(0, 7)}\`` : undefined;
  if (turn.mode === 'plan' && turn.state === 'completed') {
    if (!turn.summary) return 'The agent finished without writing a plan.';
    return `Plan ready (nothing was changed):\n\n${turn.summary}\n\nComment \`/forge approve\` to carry it out.`;
  }
  if (turn.state === 'completed') {
    if (!sha) return 'Done: nothing needed to change, so there is no new commit.';
    const summary = turn.summary ? `\n\n${oneLine(turn.summary, 500)}` : '';
    return `Done in ${sha} on \`${task.branch}\`.${summary}`;
  }
  const kept = sha ? ` The work so far is kept in ${sha}.` : '';
  const pr = task.changeRequest ? ` (${words.changeRequestRef(task.changeRequest.number)})` : '';
  const why = (turn.error ?? 'see the progress comment').trim().replace(/\.$/, '');
  return `Turn ${turn.n}${pr} ${turn.state === 'failed' ? 'failed' : 'stopped'}: ${why}.${kept} Comment \`/forge continue\` to pick it up; the progress comment says what remains.`;
}

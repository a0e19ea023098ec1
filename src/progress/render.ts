import { formatDuration } from '../config/duration.js';
import type { ForgeWords } from '../forge/types.js';
import type { Task, Turn } from '../tasks/types.js';

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

function renderOutcome(task: Task, turn: Turn, words: ForgeWords): string[] {
  const out: string[] = [];
  const cr = task.changeRequest;
  if (turn.mode === 'plan') return renderPlanOutcome(turn);
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
  if (turn.state === 'failed' || turn.state === 'cancelled') {
    if (turn.error) out.push('', `**What happened:** ${turn.error}`);
    if (turn.commitSha) {
      out.push(
        '',
        `The work so far is kept: commit \`${turn.commitSha.slice(0, 7)}\` on \`${task.branch}\`${cr ? ` (${words.changeRequestRef(cr.number)})` : ''}.`,
      );
    }
    out.push(
      '',
      `Comment \`/forge continue\` to pick up where it stopped${turn.commitSha ? ' (from that commit)' : ''}, or \`/forge <instruction>\` to ask for something else.`,
    );
  }
  if (turn.excludedPaths?.length) {
    out.push(
      '',
      `**Not pushed:** ${words.unpushable?.why ?? 'the host would not accept these files from Forge'}, so these were left out: ${turn.excludedPaths.map((p) => `\`${p}\``).join(', ')}.`,
    );
  }
  if (turn.summary && turn.state === 'completed')
    out.push('', '<details><summary>Agent summary</summary>', '', turn.summary, '', '</details>');
  return out;
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

export function renderCheckSummary(
  task: Task,
  turn: Turn,
  view: TurnView,
  words: ForgeWords,
): { title: string; summary: string } {
  const title =
    turn.state === 'running'
      ? `Turn ${turn.n}: ${view.phase === 'agent' ? 'agent working' : view.phase}`
      : `Turn ${turn.n}: ${turn.state}`;
  const body = renderSticky(task, turn, view, words).split('\n').slice(1).join('\n');
  return { title, summary: body };
}

export function renderPullRequestBody(task: Task, turn: Turn, words: ForgeWords): string {
  const lines = [
    `Closes ${words.issueRef(task.issueNumber)}`,
    '',
    `Requested by @${turn.requestedBy} in ${words.issueRef(task.issueNumber)}: ${oneLine(turn.instruction, 300)}`,
  ];
  if (turn.summary) lines.push('', '### What the agent did', '', turn.summary);
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

/** Tokens and cost of the turn (as the model gateway measured them), and the task's total. */
export function usageLine(task: Task, turn: Turn): string | undefined {
  const u = turn.usage;
  if (!u) return undefined;
  const turnPart = `${compact(u.inputTokens)} tokens in, ${compact(u.outputTokens)} out${u.costUsd !== undefined ? `, ${money(u.costUsd)}` : ''}`;
  const all = task.turns.filter((t) => t.usage && t.n !== turn.n);
  if (!all.length) return `🪙 ${turnPart}`;
  const cost = [turn, ...all].reduce((sum, t) => sum + (t.usage?.costUsd ?? 0), 0);
  const tokens = [turn, ...all].reduce(
    (sum, t) => sum + (t.usage ? t.usage.inputTokens + t.usage.outputTokens : 0),
    0,
  );
  return `🪙 ${turnPart} · task: ${compact(tokens)} tokens${cost > 0 ? `, ${money(cost)}` : ''}`;
}

export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function money(usd: number): string {
  return usd < 0.01 && usd > 0 ? '<$0.01' : `$${usd.toFixed(2)}`;
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
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
  return `Turn ${turn.n}${pr} ${turn.state === 'failed' ? 'failed' : 'stopped'}: ${turn.error ?? 'see the progress comment'}.${kept}`;
}

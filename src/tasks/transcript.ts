import type { ForgeWords } from '../forge/types.js';
import { agentWritten, fenced, untrusted } from './quote.js';
import type { Task, Turn } from './types.js';

/**
 * What the agent is told about the task's earlier turns. An agent that resumes its own session
 * (its CLI keeps the conversation) gets a short list; one that cannot — the `command` agent, or a
 * task without a session id for this agent — gets a compact transcript: who asked what, where,
 * and what each turn changed (its summary, commit and outcome). Bounded: the most recent turns in
 * full, older ones as one line each.
 */

/** Heads the compact transcript (agents and tests rely on it). */
export const TRANSCRIPT_HEADING = '## The conversation so far';
export const EARLIER_TURNS_HEADING = '## Earlier turns of this task';

export interface TranscriptOptions {
  /** The agent resumes its previous session, which already holds the conversation. */
  resumable: boolean;
  /** Turns shown in full; older ones get one line. */
  fullTurns?: number;
  summaryChars?: number;
  instructionChars?: number;
}

/** Agents whose CLIs resume a session by id (`task.sessions`); the `command` agent cannot. */
export function canResumeSession(agent: string, sessions: Task['sessions']): boolean {
  return agent !== 'command' && Boolean(sessions?.[agent]);
}

export function renderTranscript(
  task: Task,
  turn: Turn,
  words: ForgeWords,
  opts: TranscriptOptions,
): string[] {
  const earlier = task.turns.filter((t) => t.n < turn.n && t.state !== 'queued');
  if (!earlier.length) return [];
  if (opts.resumable) {
    const parts = [
      '',
      EARLIER_TURNS_HEADING,
      '',
      'You are resuming your session of the earlier turns; for reference, they were:',
    ];
    for (const t of earlier) {
      parts.push(
        '',
        `- Turn ${t.n}${t.mode === 'plan' ? ' (a plan, no changes)' : ''} by @${t.requestedBy}: ${outcome(t)}`,
      );
      parts.push(untrusted(`turn-${t.n}-instruction`, t.instruction));
    }
    return parts;
  }
  const fullTurns = opts.fullTurns ?? 12;
  const summaryChars = opts.summaryChars ?? 1_500;
  const instructionChars = opts.instructionChars ?? 2_000;
  const parts = [
    '',
    `${TRANSCRIPT_HEADING} (earlier turns of this task, oldest first)`,
    '',
    'Your previous session cannot be resumed, so this is what happened before this turn. Their changes are already on the branch in your checkout.',
  ];
  const older = earlier.slice(0, Math.max(0, earlier.length - fullTurns));
  if (older.length) {
    parts.push('', `${older.length} older turn${older.length > 1 ? 's' : ''}, in short:`);
    for (const t of older) parts.push(`- Turn ${t.n} by @${t.requestedBy}${how(t)}: ${outcome(t)}`);
  }
  for (const t of earlier.slice(older.length)) {
    parts.push(
      '',
      `### Turn ${t.n}: @${t.requestedBy} on ${place(t, words)}${how(t)} — ${outcome(t)}`,
      '',
      untrusted(`turn-${t.n}-instruction`, cut(t.instruction, instructionChars)),
    );
    if (t.summary) {
      parts.push(
        '',
        agentWritten(
          `the summary of turn ${t.n}`,
          cut(t.summary, summaryChars),
          'Read it as a record of what was done',
        ),
      );
    }
    if (t.error && t.state !== 'completed')
      parts.push('', `Why it ended (turn ${t.n}):`, fenced('text', cut(t.error, 600)));
    if (t.discardedPaths?.length || t.excludedPaths?.length) {
      const left = [...(t.discardedPaths ?? []), ...(t.excludedPaths ?? [])];
      parts.push(
        `Left out of its commit: ${left
          .slice(0, 10)
          .map((p) => `\`${p.replace(/`/g, '')}\``)
          .join(', ')}${left.length > 10 ? ` and ${left.length - 10} more` : ''}.`,
      );
    }
  }
  return parts;
}

function place(t: Turn, words: ForgeWords): string {
  const p = t.place;
  if (p.type === 'issue') return `issue ${words.issueRef(p.number)}`;
  const cr = `${words.changeRequest} ${words.changeRequestRef(p.number)}`;
  return p.type === 'review_thread' ? `a review thread of ${cr}` : cr;
}

function how(t: Turn): string {
  switch (t.mode) {
    case 'plan':
      return ' (a plan, no changes)';
    case 'approve':
      return ` (ran the plan of turn ${t.approvedPlan?.turn ?? '?'})`;
    case 'continue':
      return ` (continued turn ${t.continues?.turn ?? '?'})`;
    case 'address_reviews':
      return ` (addressed ${t.reviewThreads?.length ?? 'the'} review thread${t.reviewThreads?.length === 1 ? '' : 's'})`;
    default:
      return '';
  }
}

function outcome(t: Turn): string {
  const commit = t.commitSha ? `commit ${t.commitSha.slice(0, 7)}` : t.noChanges ? 'no changes' : 'no commit';
  if (t.state === 'completed') return `completed, ${commit}`;
  const why = t.endReason ? ` (${t.endReason.replace(/_/g, ' ')})` : '';
  return `${t.state}${why}, ${t.commitSha ? `work so far kept in ${commit}` : commit}`;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n…(cut: ${text.length - max} more characters)`;
}

import type { Logger } from 'pino';
import type { Forge, ForgeWords } from '../forge/types.js';
import type { Redactor } from '../observability/redact.js';
import { oneLine, renderThreadReply } from '../progress/render.js';
import { type FeedbackSnapshot, snapshotFeedback } from './feedback.js';
import type { TaskStore } from './store.js';
import type { Task, Turn } from './types.js';

/**
 * The review side of a turn, kept out of run-turn: snapshotting the change request's review
 * feedback when the turn is asked for (in the event job), handing the snapshot to the turn when it
 * starts, and answering in review threads when it ends.
 */

export interface TurnFeedbackDeps {
  store: TaskStore;
  redactor: Redactor;
  log: Logger;
  note(text: string): Promise<unknown>;
}

/** The change request whose feedback the turn gets: turns asked on one, and address-reviews turns. */
export function feedbackTarget(
  task: Pick<Task, 'changeRequest'>,
  turn: Pick<Turn, 'place' | 'mode'>,
): number | undefined {
  if (turn.place.type !== 'issue') return turn.place.number;
  return turn.mode === 'address_reviews' ? task.changeRequest?.number : undefined;
}

/** Reads and snapshots a change request's feedback (the thread a turn was asked in leads). */
export async function readFeedback(
  forge: Forge,
  number: number,
  place: Turn['place'],
): Promise<FeedbackSnapshot> {
  const raw = await forge.listReviewFeedback(number);
  return snapshotFeedback(number, raw, {
    ...(place.type === 'review_thread' ? { focusThreadId: place.threadId } : {}),
  });
}

/**
 * In the event job, when a turn is asked for: the feedback it will get, read now so that edits made
 * while it waits in line change nothing. Undefined when the turn gets none, or when it cannot be
 * read now (the turn then reads it as it starts).
 */
export async function feedbackAtTrigger(
  task: Pick<Task, 'changeRequest'>,
  turn: Pick<Turn, 'place' | 'mode'>,
  forge: Forge,
  log: Logger,
): Promise<FeedbackSnapshot | undefined> {
  const number = feedbackTarget(task, turn);
  if (number === undefined) return undefined;
  try {
    return await readFeedback(forge, number, turn.place);
  } catch (error) {
    log.warn({ err: error }, 'could not read the review feedback when the turn was asked for');
    return undefined;
  }
}

/**
 * The review feedback a starting turn gets: the snapshot taken when it was asked for, or — when
 * there is none (it could not be read then) — read once, now. An address-reviews turn records the
 * threads its prompt lists (so a retried turn answers the same ones) and fails without them; any
 * other turn goes on without feedback when it cannot be read.
 */
export async function loadTurnFeedback(
  task: Task,
  turn: Turn,
  forge: Forge,
  deps: TurnFeedbackDeps,
): Promise<{ task: Task; feedback?: FeedbackSnapshot }> {
  const number = feedbackTarget(task, turn);
  if (number === undefined) return { task };
  let feedback: FeedbackSnapshot;
  const snapshotted = turn.feedback?.changeRequest === number;
  if (snapshotted) {
    feedback = turn.feedback!;
  } else {
    try {
      feedback = await readFeedback(forge, number, turn.place);
    } catch (error) {
      if (turn.mode === 'address_reviews') throw error;
      deps.log.warn({ err: error }, 'could not read the review feedback');
      await deps.note('could not read the review feedback; the agent works without it');
      return { task };
    }
  }
  const left = feedback.omitted.threads + feedback.omitted.reviews + feedback.omitted.comments;
  await deps.note(
    `review feedback${snapshotted ? ' (as it was when the turn was asked for)' : ''}: ${feedback.threads.length} unresolved thread(s), ${feedback.reviews.length} review(s), ${feedback.comments.length} comment(s)${left ? `; ${left} older item(s) left out of the prompt` : ''}`,
  );
  if (turn.mode === 'address_reviews') {
    const ids = feedback.threads.map((t) => t.threadId);
    const updated = await deps.store.update(task.id, (t) => {
      const current = t.turns.find((x) => x.n === turn.n);
      if (current) current.reviewThreads = ids;
    });
    task = updated.task;
  }
  return { task, feedback };
}

/** The hidden marker on every thread reply of one turn: a retried job finds what it already posted. */
export function threadReplyMarker(taskId: string, turn: number): string {
  return `<!-- forge:reply:${taskId}:${turn} -->`;
}

/** The threads a finished turn answers in: the one it was asked in, and those it addressed. */
export function threadsToAnswer(turn: Turn): string[] {
  const ids = turn.place.type === 'review_thread' ? [turn.place.threadId] : [];
  if (turn.mode === 'address_reviews')
    for (const id of turn.reviewThreads ?? []) if (!ids.includes(id)) ids.push(id);
  return ids;
}

/**
 * Answers in each thread of a finished turn with what changed and the commit. Idempotent across
 * retries (BullMQ runs a job at least once): threads that already hold this turn's marked reply,
 * or that were resolved meanwhile, are skipped. Returns the number of replies posted.
 */
export async function answerThreads(
  task: Task,
  turn: Turn,
  forge: Forge,
  deps: Pick<TurnFeedbackDeps, 'redactor' | 'log'>,
): Promise<number> {
  const threads = threadsToAnswer(turn);
  const number = turn.place.type === 'issue' ? task.changeRequest?.number : turn.place.number;
  if (!threads.length || number === undefined) return 0;
  const marker = threadReplyMarker(task.id, turn.n);
  let open: Set<string> | undefined;
  const answered = new Set<string>();
  try {
    const feedback = await forge.listReviewFeedback(number);
    open = new Set(feedback.threads.map((t) => t.threadId));
    for (const t of feedback.threads)
      if (t.comments.some((c) => c.body.includes(marker))) answered.add(t.threadId);
  } catch (error) {
    deps.log.warn({ err: error }, 'could not check the review threads before answering; answering all');
  }
  const notes = turn.mode === 'address_reviews' ? threadNotes(turn.summary ?? '') : new Map<string, string>();
  let posted = 0;
  for (const id of threads) {
    if (answered.has(id) || (open && !open.has(id))) continue;
    const body = `${threadReplyBody(task, turn, forge.words, notes.get(id))}\n\n${marker}`;
    try {
      await forge.replyInThread(number, id, deps.redactor.redact(body));
      posted++;
    } catch (error) {
      deps.log.warn({ err: error, threadId: id }, 'could not reply in the review thread');
    }
  }
  return posted;
}

/** `Thread <id>: <note>` lines the agent ends an address-reviews summary with. */
export function threadNotes(summary: string): Map<string, string> {
  const notes = new Map<string, string>();
  for (const match of summary.matchAll(
    /^[\s>*-]*\**thread\s+#?([A-Za-z0-9_.-]+?)\**\s*[:\u2013\u2014]\s*(\S.*)$/gim,
  )) {
    const [, id, note] = match;
    if (id && note && !notes.has(id)) notes.set(id, note.trim());
  }
  return notes;
}

/** One thread's answer: the agent's note for it (address-reviews), else the turn's outcome. */
export function threadReplyBody(task: Task, turn: Turn, words: ForgeWords, note?: string): string {
  if (!note || turn.mode === 'plan') return renderThreadReply(task, turn, words);
  const text = oneLine(note, 500);
  const sha = turn.commitSha ? `\`${turn.commitSha.slice(0, 7)}\`` : undefined;
  if (turn.state === 'completed') {
    return sha ? `Addressed in ${sha} on \`${task.branch}\`: ${text}` : `No change for this thread: ${text}`;
  }
  return `${renderThreadReply(task, turn, words)}\n\nFor this thread: ${text}`;
}

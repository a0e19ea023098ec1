import type { Logger } from 'pino';
import { conversationOf } from '../forge/conversation.js';
import type { Forge } from '../forge/types.js';
import { renderSticky } from '../progress/render.js';
import type { StickyComments } from '../progress/stickies.js';
import type { TurnScheduler } from '../tasks/scheduler.js';
import type { TaskStore } from '../tasks/store.js';
import type { Turn } from '../tasks/types.js';

/** The hidden marker on a turn's place-in-line note: a retried job edits it instead of posting again. */
export function queuedNoteMarker(taskId: string, turn: number): string {
  return `<!-- forge:queued:${taskId}:${turn} -->`;
}

/**
 * First answer to a queued turn: the sticky progress comment where it was asked (created at once),
 * or — when other turns are ahead — a short note with its place in line, so the running turn's
 * progress is not overwritten. A turn asked in a review thread gets its note in that thread.
 * Idempotent: BullMQ may run the event job twice.
 */
export async function startTurnReplies(input: {
  forge: Forge;
  store: TaskStore;
  scheduler: TurnScheduler;
  stickies: StickyComments;
  taskId: string;
  turn: number;
  logUrl?: string;
  log?: Logger;
}): Promise<void> {
  const { forge, store, taskId } = input;
  const task = await store.get(taskId);
  const turn = task?.turns.find((t) => t.n === input.turn);
  if (!task || !turn || turn.state !== 'queued') return;
  const ahead = (await input.scheduler.placeInLine(taskId, turn.n)) - 1;
  const where = conversationOf(turn.place);
  if (ahead > 0) {
    const note = `Queued as turn ${turn.n} of this task, behind ${ahead} other turn${ahead > 1 ? 's' : ''}. It runs as soon as ${ahead > 1 ? 'they finish' : 'the current one finishes'}; nothing is cancelled.`;
    const marker = queuedNoteMarker(taskId, turn.n);
    if (turn.place.type === 'review_thread') await noteInThread(forge, turn.place, note, marker, input.log);
    else await forge.ensureComment(where, marker, `${note}\n\n${marker}`);
    return;
  }
  const body = renderSticky(
    task,
    turn,
    { phase: 'queued', ahead: 0, now: new Date(), ...(input.logUrl ? { logUrl: input.logUrl } : {}) },
    forge.words,
  );
  await input.stickies.write(forge, taskId, where, body);
}

/** The note as a reply in the review thread, unless the thread already holds it. */
async function noteInThread(
  forge: Forge,
  place: Extract<Turn['place'], { type: 'review_thread' }>,
  note: string,
  marker: string,
  log: Logger | undefined,
): Promise<void> {
  try {
    const feedback = await forge.listReviewFeedback(place.number);
    const thread = feedback.threads.find((t) => t.threadId === place.threadId);
    if (thread?.comments.some((c) => c.body.includes(marker))) return;
  } catch (error) {
    // Posting twice on a retry is better than not answering at all.
    log?.warn({ err: error }, 'could not check the review thread before answering; answering');
  }
  await forge.replyInThread(place.number, place.threadId, `${note}\n\n${marker}`);
}

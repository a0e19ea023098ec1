import { conversationOf } from '../forge/conversation.js';
import type { Forge } from '../forge/types.js';
import { renderSticky } from '../progress/render.js';
import type { StickyComments } from '../progress/stickies.js';
import type { TurnScheduler } from '../tasks/scheduler.js';
import type { TaskStore } from '../tasks/store.js';

/**
 * First answer to a queued turn: the sticky progress comment where it was asked (created at once),
 * or — when other turns are ahead — a short note with its place in line, so the running turn's
 * progress is not overwritten.
 */
export async function startTurnReplies(input: {
  forge: Forge;
  store: TaskStore;
  scheduler: TurnScheduler;
  stickies: StickyComments;
  taskId: string;
  turn: number;
  logUrl?: string;
}): Promise<void> {
  const { forge, store, taskId } = input;
  const task = await store.get(taskId);
  const turn = task?.turns.find((t) => t.n === input.turn);
  if (!task || !turn || turn.state !== 'queued') return;
  const ahead = (await input.scheduler.placeInLine(taskId, turn.n)) - 1;
  const where = conversationOf(turn.place);
  if (ahead > 0) {
    await forge.postComment(
      where,
      `Queued as turn ${turn.n} of this task, behind ${ahead} other turn${ahead > 1 ? 's' : ''}. It runs as soon as ${ahead > 1 ? 'they finish' : 'the current one finishes'}; nothing is cancelled.`,
    );
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

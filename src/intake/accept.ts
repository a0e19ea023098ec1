import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ForgeCommand } from '../commands/types.js';
import type { ForgeEvent } from '../forge/types.js';
import type { EventJob } from '../tasks/jobs.js';
import { safeJobId } from '../tasks/jobs.js';
import type { Deduper } from './dedupe.js';

export type AcceptResult = 'queued' | 'duplicate' | 'ignored';

export interface AcceptDeps {
  deduper: Deduper;
  events: Queue<EventJob>;
  log: Logger;
  parse(body: string): ForgeCommand | null;
}

/**
 * The whole webhook path after signature verification, for any forge: decide cheaply whether the
 * event matters, drop duplicates, enqueue. No forge API call, no clone, no agent — the sender
 * gets its answer in milliseconds. Authorization and replies happen in the event job.
 */
export async function acceptEvent(event: ForgeEvent | null, deps: AcceptDeps): Promise<AcceptResult> {
  if (!event) return 'ignored';
  // Bots never trigger Forge (including Forge's own comments); nothing to reply to.
  if (event.actor.isBot) return 'ignored';
  let command: ForgeCommand | null = null;
  let commentId: number | undefined;
  if (event.kind === 'comment') {
    command = deps.parse(event.comment.body);
    if (!command) return 'ignored';
    commentId = event.comment.id;
  }
  const keys = deps.deduper.keysFor(event.repo.forge, event.repo.path, event.deliveryId, commentId);
  if (!(await deps.deduper.claim(keys))) {
    deps.log.info({ deliveryId: event.deliveryId, repo: event.repo.path }, 'duplicate delivery dropped');
    return 'duplicate';
  }
  try {
    await deps.events.add(
      event.kind,
      { v: 1, event, command },
      { jobId: safeJobId('evt', event.deliveryId) },
    );
  } catch (error) {
    await deps.deduper.release(keys).catch(() => undefined);
    throw error;
  }
  deps.log.info(
    { deliveryId: event.deliveryId, repo: event.repo.path, kind: event.kind, command: command?.kind },
    'event queued',
  );
  return 'queued';
}

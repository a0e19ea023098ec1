import { Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EventJob, TurnJob } from './jobs.js';

export interface Queues {
  events: Queue<EventJob>;
  turns: Queue<TurnJob>;
  close(): Promise<void>;
}

export const EVENTS_QUEUE = 'forge-events';
export const TURNS_QUEUE = 'forge-turns';

/** BullMQ key prefix for a store prefix like `forge:` (BullMQ adds its own `:`). */
export function bullPrefix(prefix: string): string {
  return `${prefix}bull`;
}

export function createQueues(connection: Redis, prefix: string): Queues {
  const options: QueueOptions = {
    connection,
    prefix: bullPrefix(prefix),
    defaultJobOptions: {
      // Keep finished jobs a while for inspection, bounded.
      removeOnComplete: { age: 86_400, count: 1000 },
      removeOnFail: { age: 7 * 86_400, count: 5000 },
    },
  };
  const events = new Queue<EventJob>(EVENTS_QUEUE, {
    ...options,
    // Triage calls the forge API: retry transient failures with backoff.
    defaultJobOptions: {
      ...options.defaultJobOptions,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    },
  });
  // A turn is never retried blindly: a failed turn is reported, and a crashed one is recovered by
  // stalled-job detection.
  const turns = new Queue<TurnJob>(TURNS_QUEUE, {
    ...options,
    defaultJobOptions: { ...options.defaultJobOptions, attempts: 1 },
  });
  return {
    events,
    turns,
    async close() {
      await Promise.all([events.close(), turns.close()]);
    },
  };
}

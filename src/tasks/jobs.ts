import { z } from 'zod';

/**
 * The queue contract. BullMQ keeps job data in clear text in Redis: ids and public event text only,
 * never a token. Versioned so a deployed worker can refuse data it does not understand.
 */

export const TASK_ID = z.string().regex(/^t[0-9a-z]{6,30}$/);

export const TurnJob = z.strictObject({
  v: z.literal(1),
  taskId: TASK_ID,
  turn: z.number().int().positive(),
});
export type TurnJob = z.infer<typeof TurnJob>;

/** A normalized webhook event waiting for authorization and triage (off the request path). */
export const EventJob = z.strictObject({
  v: z.literal(1),
  // Validated by the producer (normalize); kept loose here to avoid a second copy of ForgeEvent.
  event: z.looseObject({ kind: z.string(), deliveryId: z.string() }),
  command: z.looseObject({ kind: z.string() }).nullable(),
});
export type EventJob = z.infer<typeof EventJob>;

/** BullMQ job ids may not contain `:`; delivery ids are uuids but GitLab's are not guaranteed. */
export function safeJobId(prefix: string, raw: string): string {
  return `${prefix}-${raw.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200)}`;
}

export function turnJobId(taskId: string, turn: number): string {
  return `turn-${taskId}-${turn}`;
}

import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type TriageDeps, triageEvent } from '../intake/triage.js';
import { EventJob, TurnJob } from '../tasks/jobs.js';
import { bullPrefix, EVENTS_QUEUE, TURNS_QUEUE } from '../tasks/queues.js';
import { runTurn, type TurnDeps } from '../tasks/run-turn.js';
import { reportLostTurn } from './lost-turn.js';

export interface WorkerTimings {
  /** How long a job lock lasts without renewal; a dead worker's turn is detected after about this. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  reconcileIntervalMs: number;
  /** On SIGTERM, how long running turns may go on before they are stopped (keeping their work). */
  shutdownGraceMs: number;
}

export const DEFAULT_TIMINGS: WorkerTimings = {
  lockDurationMs: 60_000,
  stalledIntervalMs: 30_000,
  reconcileIntervalMs: 60_000,
  shutdownGraceMs: 30_000,
};

export interface WorkerOptions {
  connection: Redis;
  subscriber: Redis;
  prefix: string;
  concurrency: number;
  log: Logger;
  triage: TriageDeps;
  turn: Omit<TurnDeps, 'shutdownSignal'>;
  timings?: Partial<WorkerTimings>;
}

export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * The worker role: event triage (many at once, short API calls) and turns (`concurrency` at once,
 * minutes each). Stalled-job detection recovers a crashed worker's turn: it runs again once, and
 * if its worker dies again it is failed with a message — never silently lost.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const timings = { ...DEFAULT_TIMINGS, ...options.timings };
  const log = options.log.child({ role: 'worker' });
  const shutdown = new AbortController();
  const prefix = bullPrefix(options.prefix);
  const turnDeps: TurnDeps = { ...options.turn, shutdownSignal: shutdown.signal };
  await options.turn.cancel.listen(options.subscriber);

  const events = new Worker<EventJob>(
    EVENTS_QUEUE,
    async (job: Job<EventJob>) => triageEvent(EventJob.parse(job.data), options.triage),
    { connection: options.connection, prefix, concurrency: 16, autorun: true },
  );
  const turns = new Worker<TurnJob>(
    TURNS_QUEUE,
    async (job: Job<TurnJob>) => runTurn(TurnJob.parse(job.data), turnDeps),
    {
      connection: options.connection,
      prefix,
      concurrency: options.concurrency,
      lockDuration: timings.lockDurationMs,
      stalledInterval: timings.stalledIntervalMs,
      maxStalledCount: 1,
    },
  );
  events.on('failed', (job, error) =>
    log.warn({ err: error, jobId: job?.id, attempts: job?.attemptsMade }, 'event job failed'),
  );
  turns.on('failed', (job, error) => {
    log.error({ err: error, jobId: job?.id }, 'turn job failed');
    const data = TurnJob.safeParse(job?.data);
    if (!data.success) return;
    const stalled = /stalled/i.test(error.message);
    const message = stalled
      ? 'The worker running this turn stopped twice, so Forge gave up on it. Any work pushed before is kept; comment `/forge <instruction>` to try again.'
      : 'Forge hit an internal error while running this turn. Comment `/forge <instruction>` to try again.';
    void reportLostTurn(turnDeps, data.data.taskId, data.data.turn, message).catch((e) =>
      log.error({ err: e }, 'could not report lost turn'),
    );
  });
  for (const w of [events, turns]) w.on('error', (error) => log.error({ err: error }, 'worker error'));

  const reconcile = async () => {
    try {
      await turnDeps.scheduler.reconcile((taskId, turn) =>
        reportLostTurn(
          turnDeps,
          taskId,
          turn,
          'The worker running this turn was lost. Comment `/forge <instruction>` to try again.',
        ),
      );
    } catch (error) {
      log.warn({ err: error }, 'reconcile failed');
    }
  };
  await reconcile();
  const reconciler = setInterval(reconcile, timings.reconcileIntervalMs);
  reconciler.unref();
  log.info({ concurrency: options.concurrency }, 'worker started');

  return {
    async close() {
      clearInterval(reconciler);
      const grace = setTimeout(() => shutdown.abort(new Error('shutdown')), timings.shutdownGraceMs);
      await Promise.all([events.close(), turns.close()]);
      clearTimeout(grace);
      await options.turn.cancel.close();
      log.info('worker stopped');
    },
  };
}

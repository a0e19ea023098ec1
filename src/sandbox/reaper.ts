/**
 * Runs `Sandbox.reapOrphans()` at start-up and then periodically, so containers left by a crashed
 * worker (or a failed destroy) do not pile up on the engine. Failures are logged, never thrown:
 * an unreachable engine must not take the worker down, and the next round retries.
 */
import type { Logger } from 'pino';
import type { Sandbox } from './types.js';

export interface OrphanReaper {
  /** The start-up round: how many were removed (0 when it failed; the failure is logged). */
  firstRound: Promise<number>;
  stop(): Promise<void>;
}

export function startOrphanReaper(
  sandbox: Sandbox,
  options: { log: Pick<Logger, 'info' | 'warn'>; intervalMs?: number },
): OrphanReaper {
  const intervalMs = options.intervalMs ?? 5 * 60_000;
  let round: Promise<number> = Promise.resolve(0);
  const reap = (): Promise<number> => {
    round = round.then(() =>
      sandbox.reapOrphans().then(
        (removed) => {
          if (removed > 0) options.log.info({ removed }, 'reaped orphaned sandboxes');
          return removed;
        },
        (error: unknown) => {
          options.log.warn({ err: error }, 'could not reap orphaned sandboxes');
          return 0;
        },
      ),
    );
    return round;
  };
  const firstRound = reap();
  const timer = setInterval(() => void reap(), intervalMs);
  timer.unref();
  return {
    firstRound,
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

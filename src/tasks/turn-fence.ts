/**
 * Fencing the attempts of one turn. BullMQ runs a job at least once: a worker that loses the job's
 * lock while alive (a Redis blip, an event loop stalled past FORGE_JOB_LOCK) keeps running while
 * BullMQ hands the job to another worker. Each start of a turn writes a fresh `attemptId` on it
 * (compare-and-set); an attempt pushes and finishes the turn only while the id is still its own,
 * and stops its agent as soon as it sees another one. Work that was pushed is recorded on the turn
 * at once (`published`), so a newer attempt finishes from it instead of running the agent again.
 */
import { randomBytes } from 'node:crypto';
import type { TurnRun } from './turn-run.js';
import type { PublishedWork, Turn } from './types.js';

/** How often a running attempt checks that it still owns its turn. */
export const DEFAULT_FENCE_CHECK_MS = 5000;

export function newAttemptId(): string {
  return randomBytes(8).toString('hex');
}

/** This attempt no longer owns its turn: it pushes nothing and leaves the turn alone. */
export class Superseded extends Error {
  constructor(readonly why: 'newer_attempt' | 'finished') {
    super(
      why === 'newer_attempt'
        ? 'a newer attempt took the turn over'
        : 'the turn was finished elsewhere (its job was given up on)',
    );
    this.name = 'Superseded';
  }
}

/**
 * Where attempt `attemptId` stands on `turn`: it owns it, it was superseded, or (still owning it)
 * finds the turn's work already published by an earlier attempt.
 */
export function fenceOf(turn: Turn, attemptId: string): 'owner' | 'published' | Superseded {
  if (turn.attemptId !== attemptId) return new Superseded('newer_attempt');
  if (turn.state !== 'running') return new Superseded('finished');
  if (turn.published && turn.published.attemptId !== attemptId) return 'published';
  return 'owner';
}

/** Reads the turn: throws Superseded when this attempt no longer owns it. */
export async function checkFence(run: TurnRun): Promise<'owner' | 'published'> {
  const task = await run.deps.store.get(run.taskId);
  if (!task) throw new Superseded('finished');
  run.task = task;
  const fence = fenceOf(run.turn, run.attemptId);
  if (fence instanceof Superseded) throw fence;
  return fence;
}

/**
 * Stops the agent as soon as another attempt owns the turn, the turn was finished elsewhere, or an
 * earlier attempt's published work turns up. Returns the function that stops watching.
 */
export function watchFence(run: TurnRun, everyMs = DEFAULT_FENCE_CHECK_MS): () => void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking || run.abort.signal.aborted) return;
    checking = true;
    run.deps.store
      .get(run.taskId)
      .then((task) => {
        const fence = task ? fenceOf(run.turnOf(task), run.attemptId) : new Superseded('finished');
        if (fence === 'owner') return;
        // Published: still this attempt's turn, finished from the earlier attempt's work.
        if (fence !== 'published') run.superseded = fence;
        run.abort.abort(fence === 'published' ? new Error('already published') : fence);
      })
      // A Redis blip is no reason to stop: the checks before pushing and finishing decide.
      .catch(() => undefined)
      .finally(() => {
        checking = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Records what the turn published (compare-and-set). Pushed work is a fact whoever owns the turn
 * now, so it is recorded even if a newer attempt took over meanwhile: that attempt then finishes
 * from it. The first record wins. Returns the record the turn keeps.
 */
export async function recordPublished(
  run: TurnRun,
  found?: { fromBranch: true },
): Promise<PublishedWork | undefined> {
  const { outcome, patch } = run;
  const record: PublishedWork = {
    ...(found ? {} : { attemptId: run.attemptId }),
    at: new Date().toISOString(),
    outcome: {
      state: outcome.state,
      ...(outcome.endReason ? { endReason: outcome.endReason } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    },
    patch: {
      ...(patch.commitSha ? { commitSha: patch.commitSha } : {}),
      ...(patch.summary ? { summary: patch.summary } : {}),
      ...(patch.usage ? { usage: patch.usage } : {}),
      ...(patch.excludedPaths ? { excludedPaths: patch.excludedPaths } : {}),
      ...(patch.noChanges ? { noChanges: patch.noChanges } : {}),
      ...(patch.discardedPaths ? { discardedPaths: patch.discardedPaths } : {}),
      ...(patch.limit ? { limit: patch.limit } : {}),
    },
  };
  return run.update((t) => {
    const turn = run.turnOf(t);
    if (turn.state === 'running' && !turn.published) turn.published = record;
    return turn.published;
  });
}

/** Takes an earlier attempt's published work as this attempt's result. */
export function adoptPublished(run: TurnRun, record: PublishedWork): void {
  run.outcome = { ...record.outcome };
  for (const key of Object.keys(run.patch) as (keyof Turn)[]) delete run.patch[key];
  Object.assign(run.patch, record.patch);
  if (record.patch.commitSha) run.checkSha = record.patch.commitSha;
}

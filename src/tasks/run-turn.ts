import { endSandbox, failTurn, finishTurn, releaseTurn } from './finish-turn.js';
import type { TurnJob } from './jobs.js';
import { loadSettings, prepareTurn, type TurnResources } from './prepare-turn.js';
import { publishTurn, shareChangeRequest } from './publish-turn.js';
import { resumePublished } from './recover-turn.js';
import { runAgent } from './run-agent.js';
import { isFinished, transitionTurn } from './transitions.js';
import type { TurnDeps } from './turn-deps.js';
import { answerThreads, threadsToAnswer } from './turn-feedback.js';
import { newAttemptId, watchFence } from './turn-fence.js';
import { TurnRun } from './turn-run.js';

export type { TurnDeps } from './turn-deps.js';

/**
 * Runs one turn: prepare (settings, branch, checkout, feedback, budget, sandbox) → the agent →
 * publish (commit and push from the host, record the push, open or update the change request) →
 * finish (store, report, thread answers, next turn).
 *
 * Safe to run twice for the same job (BullMQ is at-least-once): a finished turn is skipped; a
 * running one (its worker died) is taken over by a new attempt, which finishes from the earlier
 * attempt's pushed work if there is any and otherwise starts again from the branch tip; an attempt
 * that was taken over while still alive stops and pushes nothing (see turn-fence.ts).
 */
export async function runTurn(job: TurnJob, deps: TurnDeps): Promise<void> {
  const run = await startTurn(job, deps);
  if (!run) return;
  const stopListening = await run.listenForStops();
  const stopWatching = watchFence(run, deps.fenceCheckMs);
  const held: TurnResources = {};
  try {
    const settings = await loadSettings(run);
    const earlier = run.turn.published;
    if (earlier) await resumePublished(run, earlier);
    else {
      const prepared = await prepareTurn(run, settings, held);
      if (prepared) {
        await runAgent(run, prepared, held);
        await endSandbox(run, held);
        await publishTurn(run, prepared);
      }
    }
    await shareChangeRequest(run, settings);
  } catch (error) {
    failTurn(run, error);
  } finally {
    stopWatching();
    stopListening();
    await releaseTurn(run, held);
  }
  await finishTurn(run);
}

/** Moves the turn to `running` under a new attempt id; undefined when there is nothing to run. */
async function startTurn(job: TurnJob, deps: TurnDeps): Promise<TurnRun | undefined> {
  const { taskId, turn: n } = job;
  const existing = await deps.store.get(taskId);
  const before = existing?.turns.find((t) => t.n === n);
  if (!existing || !before) return undefined;
  if (isFinished(before.state)) {
    // A retried job of a finished turn: post the thread answers a crash may have cut short.
    if (threadsToAnswer(before).length) {
      const forge = await deps.forges.forRepo(existing.repo);
      await answerThreads(existing, before, forge, deps).catch(() => 0);
    }
    await deps.scheduler.dispatchNext(taskId);
    return undefined;
  }
  const resumed = before.state === 'running';
  const attemptId = newAttemptId();
  const { task } = await deps.store.update(taskId, (t) => {
    transitionTurn(t, n, 'running', { attemptId });
  });
  const forge = await deps.forges.forRepo(task.repo);
  const run = new TurnRun(deps, task, n, forge, attemptId);
  await run.note(
    resumed
      ? `turn ${n} picked up again after its worker stopped (attempt ${run.turn.attempts})`
      : `turn ${n} started`,
  );
  run.log.info({ resumed, attemptId }, 'turn started');
  run.render();
  return run;
}

import { explainError } from './explain.js';
import type { TurnResources } from './prepare-turn.js';
import { SetupFailed } from './run-agent.js';
import { transitionTurn } from './transitions.js';
import { LimitReached } from './turn-budget.js';
import { answerThreads } from './turn-feedback.js';
import { fenceOf, Superseded } from './turn-fence.js';
import type { TurnRun } from './turn-run.js';

/** An error ended the turn: a limit cancels it, anything else fails it with words a user can act on. */
export function failTurn(run: TurnRun, error: unknown): void {
  if (error instanceof Superseded) {
    run.superseded = error;
    return;
  }
  run.log.error({ err: error }, 'turn failed');
  if (error instanceof LimitReached) {
    run.patch.limit = error.hit.cap;
    run.outcome = { state: 'cancelled', endReason: 'limit', error: error.message };
  } else {
    const explained = error instanceof SetupFailed ? error.message : explainError(error, run.forge.words);
    run.outcome = { state: 'failed', endReason: 'error', error: run.deps.redactor.redact(explained) };
  }
}

/**
 * Ends everything the agent started before the host reads the checkout: a process left running
 * could swap a file for a link to a host file between git's check and its read, or plant a FIFO.
 * True when the sandbox is gone (destroy is idempotent, so releaseTurn may call it again).
 */
export async function endSandbox(run: TurnRun, held: TurnResources): Promise<boolean> {
  if (!held.session) return true;
  try {
    await held.session.destroy();
    return true;
  } catch (error) {
    run.log.warn({ err: error }, 'sandbox cleanup failed');
    return false;
  }
}

/** Books the turn's cost and removes its sandbox and checkout, whatever happened. */
export async function releaseTurn(run: TurnRun, held: TurnResources): Promise<void> {
  const { log } = run;
  await held.budget
    ?.finish()
    .catch((error: unknown) => log.warn({ err: error }, 'could not book the turn cost'));
  await run.lines.flush().catch(() => undefined);
  // A recursive delete racing a sandbox that may still run could follow a swapped-in link: leave
  // the checkout (and its container, to the reaper) when the sandbox could not be removed.
  if (!(await endSandbox(run, held))) {
    log.warn({ dir: held.workspace?.dir }, 'checkout left on disk: its sandbox may still be running');
    return;
  }
  await held.workspace
    ?.dispose()
    .catch((error: unknown) => log.warn({ err: error }, 'workspace cleanup failed'));
}

/**
 * Writes how the turn ended — only while this attempt still owns the turn (compare-and-set) —,
 * shows it on the sticky comment and the check, answers in the review threads it was asked in or
 * addressed, and hands the task's next turn to the queue.
 */
export async function finishTurn(run: TurnRun): Promise<void> {
  const { deps, forge, n, outcome, patch, log } = run;
  const superseded =
    run.superseded ??
    (await run.update((t) => {
      const current = run.turnOf(t);
      const fence = fenceOf(current, run.attemptId);
      if (fence instanceof Superseded) return fence;
      delete current.published;
      transitionTurn(t, n, outcome.state, {
        ...patch,
        ...(outcome.endReason ? { endReason: outcome.endReason } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      });
      // A finished plan waits for `/forge approve`.
      if (current.mode === 'plan' && outcome.state === 'completed' && patch.summary) t.pendingPlan = n;
      return undefined;
    }));
  if (superseded) return leaveTurn(run, superseded);
  run.setPhase('finished');
  await run.reporter.flush();
  run.task = (await deps.store.get(run.taskId)) ?? run.task;
  run.reporter.writes += await answerThreads(run.task, run.turn, forge, deps).catch((error: unknown) => {
    log.warn({ err: error }, 'could not answer in the review threads');
    return 0;
  });
  await run.note(`turn ${n} ${run.turn.state}${outcome.error ? `: ${outcome.error}` : ''}`);
  log.info({ state: run.turn.state, writes: run.reporter.writes }, 'turn finished');
  deps.onTurnWrites?.(run.reporter.writes);
  await deps.scheduler.dispatchNext(run.taskId);
}

/** This attempt no longer owns the turn: it reports nothing and leaves the turn to its owner. */
async function leaveTurn(run: TurnRun, why: Superseded): Promise<void> {
  run.superseded = why;
  run.log.warn({ attemptId: run.attemptId, why: why.why }, 'turn attempt superseded');
  await run.note(
    `turn ${run.n}: attempt ${run.attemptId.slice(0, 8)} stopped without pushing to the turn's branch: ${why.message}`,
  );
}

import { conversationKey, conversationOf } from '../forge/conversation.js';
import { renderCheckSummary, renderSticky, stickyMarker } from '../progress/render.js';
import type { TurnDeps } from '../tasks/run-turn.js';

/** Fails a turn whose worker is gone and tells the user, on the sticky comment and the check. */
export async function reportLostTurn(
  deps: TurnDeps,
  taskId: string,
  n: number,
  message: string,
): Promise<void> {
  const changed = await deps.scheduler.failLost(taskId, n, message);
  if (!changed) return;
  const task = await deps.store.get(taskId);
  const turn = task?.turns.find((t) => t.n === n);
  if (!task || !turn) return;
  await deps.store.appendEvent(taskId, n, 'state', `turn ${n} failed: ${message}`);
  const forge = await deps.forges.forRepo(task.repo);
  const view = { phase: 'finished' as const, now: new Date() };
  const where = conversationOf(turn.place);
  await forge.ensureComment(
    where,
    stickyMarker(task.id, where.number),
    deps.redactor.redact(renderSticky(task, turn, view, forge.words)),
    task.stickies?.[conversationKey(where)],
  );
  if (turn.checkRunId !== undefined) {
    const check = renderCheckSummary(task, turn, view, forge.words);
    await forge.reportCheck(
      {
        sha: turn.checkSha ?? '',
        status: 'completed',
        conclusion: 'failure',
        ...check,
        externalId: `${taskId}-${n}`,
        ...(task.branch ? { ref: task.branch } : {}),
      },
      turn.checkRunId,
    );
  }
}

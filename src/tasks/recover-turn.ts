import type { GitWorkspace } from '../git/workspace.js';
import { findTurnCommit } from './turn-commit.js';
import { adoptPublished, recordPublished } from './turn-fence.js';
import type { TurnRun } from './turn-run.js';
import type { PublishedWork } from './types.js';

/**
 * Picking a turn up again after its worker died must not apply its change twice: work an earlier
 * attempt published is finished from, never redone.
 */

/** The earlier attempt recorded its published work: this attempt finishes the turn from it. */
export async function resumePublished(run: TurnRun, record: PublishedWork): Promise<void> {
  adoptPublished(run, record);
  const sha = record.patch.commitSha;
  await run.note(
    `turn ${run.n}: an earlier attempt already ${sha ? `pushed ${sha.slice(0, 7)}` : 'ran the agent'}; finishing the turn from its record without running the agent again`,
  );
  run.log.info({ commitSha: sha }, 'turn finished from the earlier attempt’s published work');
}

/**
 * The earlier attempt's commit is on the branch although nothing recorded it (its worker died
 * while pushing, or right after): it becomes the turn's work, recorded like any push. Returns
 * whether it was found; call only on a fresh checkout, before anything ran in it.
 */
export async function adoptPushedCommit(run: TurnRun, workspace: GitWorkspace): Promise<boolean> {
  const found = await findTurnCommit(workspace, {
    taskId: run.taskId,
    turn: run.n,
    committer: run.deps.gitAuthor,
  });
  if (!found) return false;
  const short = found.sha.slice(0, 7);
  run.patch.commitSha = found.sha;
  run.outcome = found.wip
    ? {
        state: 'failed',
        endReason: 'worker_lost',
        error: `The worker running this turn stopped right after pushing its unfinished work (\`${short}\` on \`${run.task.branch}\`), before it could record how the turn ended. Comment \`/forge continue\` to pick it up.`,
      }
    : { state: 'completed' };
  // The attempt that pushed it may still have recorded it meanwhile: the first record wins.
  const record = await recordPublished(run, { fromBranch: true });
  if (record) adoptPublished(run, record);
  await run.note(
    `turn ${run.n}: its commit ${short} is already on ${run.task.branch} (pushed by an earlier attempt); finishing the turn without running the agent again`,
  );
  run.log.info({ commitSha: found.sha }, 'turn finished from its commit found on the branch');
  return true;
}

import { stripHidden } from '../commands/sanitize.js';
import type { RunOptions } from '../commands/types.js';
import type { Forge } from '../forge/types.js';
import { isFinished } from '../tasks/transitions.js';
import type { Task, Turn, TurnMode } from '../tasks/types.js';

/** What each conversation command asks of its task: the turn to queue, or why it cannot run. */

/** What a queued turn will do; or, when the command cannot run on this task, the one-line reply. */
export type TurnRequest =
  | {
      instruction: string;
      options: RunOptions;
      mode?: TurnMode;
      approvedPlan?: Turn['approvedPlan'];
      continues?: Turn['continues'];
    }
  | { reply: string };

/** `/forge approve`: the pending plan's instruction, its plan and the user's edits. Pure. */
export function approvePlan(task: Task | undefined, edits: string | undefined): TurnRequest {
  const planTurn = task?.turns.find((t) => t.n === task.pendingPlan);
  if (!task || !planTurn?.summary) {
    const planning = task?.turns.findLast((t) => t.mode === 'plan' && !isFinished(t.state));
    return {
      reply: planning
        ? `The plan of turn ${planning.n} is not ready yet; comment \`/forge approve\` again once it is posted.`
        : 'There is no plan waiting for approval here: comment `/forge plan <instruction>` first — the agent proposes a plan without changing anything — then `/forge approve` runs it.',
    };
  }
  const cleanEdits = edits === undefined ? '' : stripHidden(edits).trim();
  return {
    instruction: planTurn.instruction,
    options: planTurn.options,
    mode: 'approve',
    approvedPlan: {
      turn: planTurn.n,
      plan: planTurn.summary,
      ...(cleanEdits ? { edits: cleanEdits } : {}),
    },
  };
}

/** `/forge address-reviews`: a turn on the change request's unresolved review threads. Pure. */
export function addressReviews(
  task: Task | undefined,
  onChangeRequest: boolean,
  cmd: { instruction?: string; options: RunOptions },
  words: Forge['words'],
): TurnRequest {
  if (!onChangeRequest && !task?.changeRequest) {
    return {
      reply: `There is no ${words.changeRequest} here yet: \`/forge address-reviews\` handles the review threads of a ${words.changeRequest}. Comment it on the ${words.changeRequest}, or here once Forge has opened one.`,
    };
  }
  const base = `Address the unresolved review threads on this ${words.changeRequest}.`;
  return {
    instruction: cmd.instruction ? `${base}\n\n${cmd.instruction}` : base,
    options: cmd.options,
    mode: 'address_reviews',
  };
}

/**
 * `/forge continue`: the last turn, when it was stopped, timed out or failed. A continue turn that
 * left no commit (refused at start by a budget cap, say) did none of the work it was to continue:
 * Forge then goes back to the interrupted turn it continued, and that turn's WIP commit. Pure.
 */
export function continueTurn(task: Task | undefined): TurnRequest {
  const last = task?.turns.at(-1);
  if (!task || !last) {
    return {
      reply:
        'There is nothing to continue here: `/forge continue` picks up a turn that was stopped, timed out or failed.',
    };
  }
  if (last.state === 'queued' || last.state === 'running') {
    return {
      reply: `Turn ${last.n} is still ${last.state}; \`/forge continue\` picks up a turn after it was stopped, timed out or failed.`,
    };
  }
  if (last.state === 'completed') {
    return {
      reply: `The last turn (turn ${last.n}) completed, so there is nothing to continue; comment \`/forge <instruction>\` to ask for more.`,
    };
  }
  let target: Turn & { state: 'failed' | 'cancelled' } = { ...last, state: last.state };
  for (let hops = 0; !target.commitSha && target.continues && hops < task.turns.length; hops++) {
    const earlier = task.turns.find((t) => t.n === target.continues?.turn);
    if (!earlier || (earlier.state !== 'failed' && earlier.state !== 'cancelled')) break;
    target = { ...earlier, state: earlier.state };
  }
  return {
    instruction: target.instruction,
    options: target.options,
    // An interrupted plan is continued as a plan: the user still asked for no changes.
    mode: target.mode === 'plan' ? 'plan' : 'continue',
    ...(target.approvedPlan ? { approvedPlan: target.approvedPlan } : {}),
    continues: {
      turn: target.n,
      state: target.state,
      ...(target.endReason ? { endReason: target.endReason } : {}),
      ...(target.commitSha ? { commitSha: target.commitSha } : {}),
    },
  };
}

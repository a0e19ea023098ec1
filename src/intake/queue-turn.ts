import type { Logger } from 'pino';
import { stripHidden } from '../commands/sanitize.js';
import type { RepoSettings } from '../config/repo-settings.js';
import { subjectConversation } from '../forge/conversation.js';
import type { Conversation, Forge, ForgeEvent } from '../forge/types.js';
import { isFinished } from '../tasks/transitions.js';
import { feedbackAtTrigger, feedbackTarget } from '../tasks/turn-feedback.js';
import type { Task, Turn, TurnMode } from '../tasks/types.js';
import { startTurnReplies } from './replies.js';
import type { TurnRequest } from './requests.js';
import type { TriageDeps } from './triage.js';

/**
 * Queues a turn on the task of the issue or change request (creating the task unless the command
 * needs one): the instruction, the issue's text and the review feedback are snapshotted now, hidden
 * text stripped. Idempotent: a retried job finds the turn it already added.
 */
export async function queueTurn(
  event: Extract<ForgeEvent, { kind: 'comment' | 'labeled' }>,
  request: (task: Task | undefined) => TurnRequest,
  forge: Forge,
  deps: TriageDeps,
  log: Logger,
  repo: RepoSettings,
  /** `mode`: the mode the request will have, when it decides which feedback the turn gets. */
  opts: { existingTask?: boolean; mode?: TurnMode } = {},
): Promise<void> {
  const subject = event.subject;
  const here: Conversation = subjectConversation(subject);
  const { repository } = forge.words;
  let changeRequest: { number: number; url: string; branch: string } | undefined;
  if (subject.isChangeRequest) {
    const cr = await forge.getChangeRequest(subject.number);
    if (cr.isFork) {
      await forge.postComment(
        here,
        `Forge does not run on ${forge.words.changeRequest}s from forks: it would run an instruction on code from outside this ${repository} with write access to it. Push the branch to this ${repository} and ask again there.`,
      );
      return;
    }
    if (cr.state !== 'open') {
      await forge.postComment(
        here,
        `This ${forge.words.changeRequest} is ${cr.state}; Forge only works on open ones.`,
      );
      return;
    }
    changeRequest = { number: cr.number, url: cr.url, branch: cr.headBranch };
  }

  const now = new Date().toISOString();
  if (opts.existingTask) {
    // approve / continue build on a task that exists: never start one for them.
    const existing = await deps.store.findByNumber(event.repo, here);
    if (!existing) {
      const asked = request(undefined);
      if ('reply' in asked) await forge.postComment(here, asked.reply);
      return;
    }
  }
  const { task: found } = await deps.store.findOrCreate(
    event.repo,
    here,
    (id): Task => ({
      v: 1,
      id,
      repo: event.repo,
      issueNumber: subject.number,
      issueTitle: subject.title,
      ...(changeRequest
        ? {
            changeRequest: { number: changeRequest.number, url: changeRequest.url },
            branch: changeRequest.branch,
          }
        : {}),
      requestedBy: event.actor.login,
      state: 'queued',
      createdAt: now,
      updatedAt: now,
      turns: [],
    }),
  );

  const place =
    event.kind === 'comment' ? event.comment.place : ({ type: 'issue', number: subject.number } as const);
  // Review feedback is snapshotted now, with the instruction: edits made while the turn waits in
  // line change nothing. (A retried job keeps the snapshot its turn already has.)
  const retried = found.turns.some((t) => t.deliveryId === event.deliveryId);
  const feedback = retried
    ? undefined
    : await feedbackAtTrigger(found, { place, ...(opts.mode ? { mode: opts.mode } : {}) }, forge, log);
  type Queued = { turn: Turn; added: boolean } | { reply: string };
  const { result: queued } = await deps.store.update(found.id, (task): Queued => {
    // A retried job finds the turn it already added.
    const existing = task.turns.find((t) => t.deliveryId === event.deliveryId);
    if (existing) return { turn: existing, added: false };
    const asked = request(task);
    if ('reply' in asked) return asked;
    // Finished turns need their snapshots no more: the task record stays small.
    for (const t of task.turns) if (isFinished(t.state)) delete t.feedback;
    const { instruction, options } = asked;
    const added: Turn = {
      n: task.turns.length + 1,
      instruction: stripHidden(instruction),
      requestedBy: event.actor.login,
      requestedById: event.actor.id,
      place,
      context: { title: stripHidden(subject.title), body: stripHidden(subject.body) },
      ...(event.kind === 'comment' ? { commentId: event.comment.id } : {}),
      deliveryId: event.deliveryId,
      options: {
        // The comment's options win; then the repository's settings; then the operator's default.
        agent: options.agent ?? repo.agent ?? deps.defaultAgent,
        ...(options.model || repo.model ? { model: options.model ?? repo.model } : {}),
      },
      state: 'queued',
      createdAt: now,
      ...(event.kind === 'comment' && event.comment.createdAt ? { askedAt: event.comment.createdAt } : {}),
      attempts: 0,
      ...(asked.mode ? { mode: asked.mode } : {}),
      ...(asked.approvedPlan ? { approvedPlan: asked.approvedPlan } : {}),
      ...(asked.continues ? { continues: asked.continues } : {}),
    };
    if (feedback && feedbackTarget(task, added) === feedback.changeRequest) added.feedback = feedback;
    task.turns.push(added);
    // Approving uses the pending plan up; a new plan replaces it.
    if (asked.mode === 'approve' || asked.mode === 'plan') task.pendingPlan = undefined;
    if (task.state === 'awaiting_instruction') task.state = 'queued';
    task.updatedAt = now;
    return { turn: added, added: true };
  });
  if ('reply' in queued) {
    await forge.postComment(here, queued.reply);
    return;
  }
  const { turn } = queued;
  if (queued.added) {
    const how = turn.mode ? ` (${turn.mode}${turn.continues ? ` of turn ${turn.continues.turn}` : ''})` : '';
    await deps.store.appendEvent(
      found.id,
      turn.n,
      'state',
      `turn ${turn.n}${how} queued by @${turn.requestedBy}`,
    );
    log.info({ taskId: found.id, turn: turn.n }, 'turn queued');
  }
  await deps.scheduler.dispatchNext(found.id);
  await startTurnReplies({
    forge,
    store: deps.store,
    scheduler: deps.scheduler,
    stickies: deps.stickies,
    taskId: found.id,
    turn: turn.n,
    logUrl: deps.logUrl(found.id),
    log,
  });
}

import type { Logger } from 'pino';
import { authorize } from '../commands/authorize.js';
import { renderHelp } from '../commands/parse.js';
import { stripHidden } from '../commands/sanitize.js';
import type { ForgeCommand, RunOptions } from '../commands/types.js';
import { loadRepoSettings, type RepoSettings } from '../config/repo-settings.js';
import { subjectConversation } from '../forge/conversation.js';
import type { Conversation, Forge, ForgeEvent, ForgeFactory } from '../forge/types.js';
import type { StickyComments } from '../progress/stickies.js';
import type { CancelBus } from '../tasks/cancel.js';
import type { EventJob } from '../tasks/jobs.js';
import type { TurnScheduler } from '../tasks/scheduler.js';
import type { TaskStore } from '../tasks/store.js';
import { closeTask, isFinished, runningTurn } from '../tasks/transitions.js';
import type { Task, Turn, TurnMode } from '../tasks/types.js';
import { startTurnReplies } from './replies.js';
import { renderStatus } from './status.js';

export interface TriageDeps {
  forges: ForgeFactory;
  store: TaskStore;
  scheduler: TurnScheduler;
  stickies: StickyComments;
  cancel: CancelBus;
  log: Logger;
  allowedAgents: readonly string[];
  defaultAgent: string;
  triggerLabel: string;
  /** Labels a repository's settings file may pick as its trigger label (FORGE_REPO_TRIGGER_LABELS). */
  repoTriggerLabels?: readonly string[];
  /** The operator's turn time limit (for checking repository settings). */
  turnTimeoutMs?: number;
  /** The operator's bounds for repository limits (FORGE_IDLE_TIMEOUT, FORGE_MAX_AGENT_STEPS, FORGE_MAX_TASK_COST_USD). */
  idleTimeoutMs?: number;
  maxAgentSteps?: number;
  maxTaskCostUsd?: number;
  botLogins: readonly string[];
  logUrl(taskId: string): string | undefined;
}

/**
 * Runs off the request path for every accepted event: authorize, acknowledge, then answer a
 * command or queue a turn. Every step is idempotent — BullMQ may run this job twice.
 */
export async function triageEvent(job: EventJob, deps: TriageDeps): Promise<void> {
  const event = job.event as unknown as ForgeEvent;
  const command = job.command as ForgeCommand | null;
  const log = deps.log.child({ deliveryId: event.deliveryId, repo: event.repo.path });

  if (event.kind === 'change_request_closed') {
    await endTask(event.repo, event.number, deps, log);
    return;
  }

  const forge = await deps.forges.forRepo(event.repo);
  // Some hosts tell bots apart only through their API (GitLab: its own user and access-token bots).
  const actor = { ...event.actor, isBot: event.actor.isBot || (await forge.isBot(event.actor)) };
  const permission = await forge.getPermission(actor.login);
  const words = forge.words;
  const first = authorize({ actor, permission, botLogins: deps.botLogins, words });
  const subject = event.subject;
  const here = subjectConversation(subject);
  if (first.decision === 'ignore') {
    log.info({ actor: event.actor.login, reason: first.reason }, 'event ignored');
    return;
  }
  // The repository's settings, from its default branch only (never a PR head, which the requester
  // controls). Problems in the file are reported by the turn that runs (once per turn); here they
  // are only logged. A failed read throws, so `allowedUsers` is never skipped.
  const { settings: repo, problems } = await loadRepoSettings(forge, event.repo.defaultBranch, {
    allowedAgents: deps.allowedAgents,
    triggerLabel: deps.triggerLabel,
    repoTriggerLabels: deps.repoTriggerLabels ?? [],
    turnTimeout: deps.turnTimeoutMs ?? Number.POSITIVE_INFINITY,
    ...(deps.idleTimeoutMs !== undefined ? { idleTimeout: deps.idleTimeoutMs } : {}),
    ...(deps.maxAgentSteps !== undefined ? { maxAgentSteps: deps.maxAgentSteps } : {}),
    ...(deps.maxTaskCostUsd !== undefined ? { maxTaskCostUsd: deps.maxTaskCostUsd } : {}),
  });
  if (problems.length) log.info({ problems }, 'repository settings have problems');
  if (event.kind === 'labeled') {
    // The webhook lets through the operator's label and the labels repositories may choose; only
    // this repository's own trigger label (its `triggerLabel`, or the operator's) starts a task.
    const label = repo.triggerLabel ?? deps.triggerLabel;
    if (event.label.toLowerCase() !== label.toLowerCase()) {
      log.info({ label: event.label }, "label ignored: not this repository's trigger label");
      return;
    }
  }
  const decision = authorize({
    actor,
    permission,
    botLogins: deps.botLogins,
    words,
    ...(repo.allowedUsers ? { allowedUsers: repo.allowedUsers } : {}),
  });
  if (decision.decision === 'ignore') return;
  if (decision.decision === 'refuse') {
    log.info({ actor: event.actor.login, permission }, 'trigger refused');
    await forge.postComment(here, decision.reply);
    return;
  }
  if (event.kind === 'comment') {
    await forge
      .addReaction(event.comment, 'eyes')
      .catch((error) => log.warn({ err: error }, 'could not add reaction'));
  }

  const cmd: ForgeCommand =
    event.kind === 'labeled'
      ? { kind: 'run', instruction: `${subject.title}\n\n${subject.body}`.trim(), options: {} }
      : (command ?? { kind: 'invalid', reply: 'Forge could not read this command.' });

  const help = () =>
    renderHelp({
      words,
      allowedAgents: deps.allowedAgents,
      triggerLabel: repo.triggerLabel ?? deps.triggerLabel,
    });
  switch (cmd.kind) {
    case 'invalid':
      // An unknown command word or option: one reply, with the help after it; nothing runs.
      await forge.postComment(here, cmd.help ? `${cmd.reply}\n\n${help()}` : cmd.reply);
      return;
    case 'help':
      await forge.postComment(here, help());
      return;
    case 'status': {
      const task = await deps.store.findByNumber(event.repo, here);
      await forge.postComment(here, renderStatus(task, forge.words, task ? deps.logUrl(task.id) : undefined));
      return;
    }
    case 'stop': {
      const task = await deps.store.findByNumber(event.repo, here);
      const turn = task && runningTurn(task);
      if (!task || !turn) {
        await forge.postComment(here, 'Nothing is running here, so there is nothing to stop.');
        return;
      }
      await deps.cancel.request(task.id, turn.n);
      log.info({ taskId: task.id, turn: turn.n }, 'stop requested');
      return;
    }
    case 'run':
      await queueTurn(
        event,
        () => ({ instruction: cmd.instruction, options: cmd.options }),
        forge,
        deps,
        log,
        repo,
      );
      return;
    case 'plan':
      await queueTurn(
        event,
        () => ({ instruction: cmd.instruction, options: cmd.options, mode: 'plan' }),
        forge,
        deps,
        log,
        repo,
      );
      return;
    case 'approve':
      await queueTurn(event, (task) => approvePlan(task, cmd.edits), forge, deps, log, repo, {
        existingTask: true,
      });
      return;
    case 'continue':
      await queueTurn(event, continueTurn, forge, deps, log, repo, { existingTask: true });
      return;
    case 'address_reviews':
      // On a change request a task may start with it; on an issue it needs the task's change request.
      await queueTurn(
        event,
        (task) => addressReviews(task, subject.isChangeRequest, cmd, forge.words),
        forge,
        deps,
        log,
        repo,
        { existingTask: !subject.isChangeRequest },
      );
      return;
  }
}

/** What a queued turn will do; or, when the command cannot run on this task, the one-line reply. */
type TurnRequest =
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

/** `/forge continue`: the last turn, when it was stopped, timed out or failed. Pure. */
export function continueTurn(task: Task | undefined): TurnRequest {
  const last = task?.turns.at(-1);
  if (!last) {
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
  return {
    instruction: last.instruction,
    options: last.options,
    // An interrupted plan is continued as a plan: the user still asked for no changes.
    mode: last.mode === 'plan' ? 'plan' : 'continue',
    ...(last.approvedPlan ? { approvedPlan: last.approvedPlan } : {}),
    continues: {
      turn: last.n,
      state: last.state,
      ...(last.endReason ? { endReason: last.endReason } : {}),
      ...(last.commitSha ? { commitSha: last.commitSha } : {}),
    },
  };
}

async function queueTurn(
  event: Extract<ForgeEvent, { kind: 'comment' | 'labeled' }>,
  request: (task: Task | undefined) => TurnRequest,
  forge: Forge,
  deps: TriageDeps,
  log: Logger,
  repo: RepoSettings,
  opts: { existingTask?: boolean } = {},
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
  const { result: queued } = await deps.store.update(found.id, (task): Turn | { reply: string } => {
    // A retried job finds the turn it already added.
    const existing = task.turns.find((t) => t.deliveryId === event.deliveryId);
    if (existing) return existing;
    const asked = request(task);
    if ('reply' in asked) return asked;
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
      attempts: 0,
      ...(asked.mode ? { mode: asked.mode } : {}),
      ...(asked.approvedPlan ? { approvedPlan: asked.approvedPlan } : {}),
      ...(asked.continues ? { continues: asked.continues } : {}),
    };
    task.turns.push(added);
    // Approving uses the pending plan up; a new plan replaces it.
    if (asked.mode === 'approve' || asked.mode === 'plan') task.pendingPlan = undefined;
    if (task.state === 'awaiting_instruction') task.state = 'queued';
    task.updatedAt = now;
    return added;
  });
  if ('reply' in queued) {
    await forge.postComment(here, queued.reply);
    return;
  }
  const turn = queued;
  const how = turn.mode ? ` (${turn.mode}${turn.continues ? ` of turn ${turn.continues.turn}` : ''})` : '';
  await deps.store.appendEvent(
    found.id,
    turn.n,
    'state',
    `turn ${turn.n}${how} queued by @${turn.requestedBy}`,
  );
  log.info({ taskId: found.id, turn: turn.n }, 'turn queued');
  await deps.scheduler.dispatchNext(found.id);
  await startTurnReplies({
    forge,
    store: deps.store,
    scheduler: deps.scheduler,
    stickies: deps.stickies,
    taskId: found.id,
    turn: turn.n,
    logUrl: deps.logUrl(found.id),
  });
}

async function endTask(
  repo: ForgeEvent['repo'],
  number: number,
  deps: TriageDeps,
  log: Logger,
): Promise<void> {
  const task = await deps.store.findByNumber(repo, { type: 'change_request', number });
  if (!task || task.changeRequest?.number !== number) return;
  const running = runningTurn(task);
  await deps.store.update(task.id, (t) => {
    if (t.state !== 'closed') closeTask(t);
  });
  if (running) await deps.cancel.request(task.id, running.n);
  log.info({ taskId: task.id }, 'task closed with its change request');
}

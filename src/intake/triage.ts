import type { Logger } from 'pino';
import { authorize } from '../commands/authorize.js';
import { renderHelp } from '../commands/parse.js';
import type { ForgeCommand } from '../commands/types.js';
import { loadRepoSettings } from '../config/repo-settings.js';
import { subjectConversation } from '../forge/conversation.js';
import type { ForgeEvent, ForgeFactory } from '../forge/types.js';
import type { StickyComments } from '../progress/stickies.js';
import type { CancelBus } from '../tasks/cancel.js';
import type { EventJob } from '../tasks/jobs.js';
import type { TurnScheduler } from '../tasks/scheduler.js';
import type { TaskStore } from '../tasks/store.js';
import { closeTask, runningTurn } from '../tasks/transitions.js';
import { authorizeWithSettings } from './access.js';
import { queueTurn } from './queue-turn.js';
import { addressReviews, approvePlan, continueTurn } from './requests.js';
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
  /** The operator's bounds for repository limits (FORGE_IDLE_TIMEOUT, FORGE_MAX_AGENT_STEPS, …). */
  idleTimeoutMs?: number;
  maxAgentSteps?: number;
  maxTaskCostUsd?: number;
  maxTaskTokens?: number;
  maxRepoDailyCostUsd?: number;
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
  // are only logged — except a broken access list, which refuses the trigger. A failed read throws,
  // so the access lists are never skipped.
  const loaded = await loadRepoSettings(forge, event.repo.defaultBranch, {
    allowedAgents: deps.allowedAgents,
    triggerLabel: deps.triggerLabel,
    repoTriggerLabels: deps.repoTriggerLabels ?? [],
    turnTimeout: deps.turnTimeoutMs ?? Number.POSITIVE_INFINITY,
    ...(deps.idleTimeoutMs !== undefined ? { idleTimeout: deps.idleTimeoutMs } : {}),
    ...(deps.maxAgentSteps !== undefined ? { maxAgentSteps: deps.maxAgentSteps } : {}),
    ...(deps.maxTaskCostUsd !== undefined ? { maxTaskCostUsd: deps.maxTaskCostUsd } : {}),
    ...(deps.maxTaskTokens !== undefined ? { maxTaskTokens: deps.maxTaskTokens } : {}),
    ...(deps.maxRepoDailyCostUsd !== undefined ? { maxRepoDailyCostUsd: deps.maxRepoDailyCostUsd } : {}),
  });
  const { settings: repo, problems } = loaded;
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
  const decision = await authorizeWithSettings({
    forge,
    actor,
    permission,
    botLogins: deps.botLogins,
    loaded,
    ref: event.repo.defaultBranch,
    log,
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
        { existingTask: !subject.isChangeRequest, mode: 'address_reviews' },
      );
      return;
  }
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

import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConclusion, AgentEvent, AgentResult, AgentRunner } from '../agents/types.js';
import {
  DEFAULT_BRANCH_PREFIX,
  loadRepoSettings,
  type RepoSettings,
  renderSettingsProblems,
} from '../config/repo-settings.js';
import { conversationOf, refOf } from '../forge/conversation.js';
import type { Forge, ForgeFactory, ForgeWords } from '../forge/types.js';
import { proxyEnvironment } from '../gateway/env.js';
import type { ModelGateway } from '../gateway/types.js';
import { branchName } from '../git/branch-name.js';
import { GitWorkspace } from '../git/workspace.js';
import type { Redactor } from '../observability/redact.js';
import { type Phase, renderCheckSummary, renderPullRequestBody, renderSticky } from '../progress/render.js';
import { ProgressReporter } from '../progress/reporter.js';
import type { StickyComments } from '../progress/stickies.js';
import type { Sandbox, SandboxSession } from '../sandbox/types.js';
import type { CancelBus } from './cancel.js';
import { explainError } from './explain.js';
import type { TurnJob } from './jobs.js';
import { LogBuffer } from './log-buffer.js';
import { buildTurnPrompts } from './prompt.js';
import { pushTurnCommit } from './push-turn.js';
import type { TurnScheduler } from './scheduler.js';
import type { TaskStore } from './store.js';
import { canResumeSession } from './transcript.js';
import { isFinished, transitionTurn } from './transitions.js';
import { type BudgetDeps, effectiveLimits, LimitReached, TurnBudget } from './turn-budget.js';
import { answerThreads, loadTurnFeedback, threadsToAnswer } from './turn-feedback.js';
import type { Task, Turn, TurnEndReason, TurnState } from './types.js';

export interface TurnDeps {
  store: TaskStore;
  stickies: StickyComments;
  scheduler: TurnScheduler;
  forges: ForgeFactory;
  sandbox: Sandbox;
  agents: ReadonlyMap<string, AgentRunner>;
  cancel: CancelBus;
  redactor: Redactor;
  log: Logger;
  workspaceRoot: string;
  gitAuthor: { name: string; email: string };
  draftPullRequests: boolean;
  /** Clone turns from a cached bare mirror of the repository. */
  gitMirror: boolean;
  /** The operator's turn time limit; a repository's `limits.turnTimeout` may only shorten it. */
  turnTimeoutMs: number;
  idleTimeoutMs: number;
  /** Operator bounds (FORGE_MAX_AGENT_STEPS, FORGE_MAX_TASK_COST_USD) repository limits must stay within. */
  maxAgentSteps?: number;
  maxTaskCostUsd?: number;
  /** Operator settings repository settings are checked against (default: the configured agents). */
  allowedAgents?: readonly string[];
  triggerLabel?: string;
  repoTriggerLabels?: readonly string[];
  logUrl(taskId: string): string | undefined;
  /** Spacing between forge writes (GitHub asks for ≥ 1 s). */
  minWriteIntervalMs?: number;
  /** Called once per finished turn with the number of forge API writes it made. */
  onTurnWrites?(writes: number): void;
  /** Fires when the worker shuts down; the turn keeps its work and ends. */
  shutdownSignal?: AbortSignal;
  /** The model gateway agents reach their model through (absent: agents get no model access). */
  gateway?: ModelGateway;
  /** Step, cost and token caps, and the per-repository daily cost ledger. */
  budget?: BudgetDeps;
  /** The sandbox image for an agent (FORGE_AGENT_IMAGES, else FORGE_AGENT_IMAGE). */
  imageFor?(agent: string): string | undefined;
  /** Default model per agent (FORGE_AGENT_MODELS); a comment's or repository's model wins. */
  agentModels?: Readonly<Record<string, string>>;
}

/** A repository `setup` command failed: the message is the user-facing explanation. */
class SetupFailed extends Error {}

interface Outcome {
  state: Exclude<TurnState, 'queued' | 'running'>;
  endReason?: TurnEndReason;
  error?: string;
}

/**
 * Runs one turn: checkout → sandbox → agent → commit and push from the host → open or update the
 * change request → report. Safe to run twice for the same job (BullMQ is at-least-once): a finished
 * turn is skipped, a running one (its worker died) starts again from the branch tip.
 */
export async function runTurn(job: TurnJob, deps: TurnDeps): Promise<void> {
  const { taskId, turn: n } = job;
  const existing = await deps.store.get(taskId);
  const before = existing?.turns.find((t) => t.n === n);
  if (!existing || !before) return;
  if (isFinished(before.state)) {
    // A retried job of a finished turn: post the thread answers a crash may have cut short.
    if (threadsToAnswer(before).length) {
      const forge = await deps.forges.forRepo(existing.repo);
      await answerThreads(existing, before, forge, deps).catch(() => 0);
    }
    await deps.scheduler.dispatchNext(taskId);
    return;
  }
  const resumed = before.state === 'running';
  let { task } = await deps.store.update(taskId, (t) => {
    transitionTurn(t, n, 'running');
  });
  const log = deps.log.child({ taskId, turn: n, repo: task.repo.path });
  const forge = await deps.forges.forRepo(task.repo);
  const turnOf = (t: Task): Turn => t.turns.find((x) => x.n === n)!;
  const logUrl = deps.logUrl(taskId);
  const where = conversationOf(turnOf(task).place);
  const reporter = new ProgressReporter({
    forge,
    writeSticky: (body) => deps.stickies.write(forge, taskId, where, body),
    minIntervalMs: deps.minWriteIntervalMs ?? 1000,
    redact: (text) => deps.redactor.redact(text),
    onError: (error) => log.warn({ err: error }, 'progress write failed'),
    onCheckCreated: async (id, sha) => {
      await deps.store.update(taskId, (t) => {
        turnOf(t).checkRunId = id;
        turnOf(t).checkSha = sha;
      });
    },
  });
  const lines = new LogBuffer((batch) =>
    deps.store.appendEvent(taskId, n, 'output', batch.map((l) => deps.redactor.redact(l)).join('\n')),
  );
  const note = (text: string) =>
    deps.store.appendEvent(taskId, n, 'state', deps.redactor.redact(text)).catch(() => undefined);
  let phase: Phase = 'preparing';
  let activity: string | undefined;
  let checkSha: string | undefined;
  const render = () => {
    const view = { phase, now: new Date(), ...(activity ? { activity } : {}), ...(logUrl ? { logUrl } : {}) };
    const turn = turnOf(task);
    reporter.setSticky(renderSticky(task, turn, view, forge.words));
    const check = renderCheckSummary(task, turn, view, forge.words);
    reporter.setCheck(
      {
        ...(checkSha ? { sha: checkSha } : {}),
        status: isFinished(turn.state) ? 'completed' : 'in_progress',
        ...(isFinished(turn.state)
          ? {
              conclusion:
                turn.state === 'completed' ? 'success' : turn.state === 'failed' ? 'failure' : 'cancelled',
            }
          : {}),
        title: check.title,
        summary: check.summary,
        externalId: `${taskId}-${n}`,
        ...(logUrl ? { detailsUrl: logUrl } : {}),
        ...(task.branch ? { ref: task.branch } : {}),
      },
      turnOf(task).checkRunId,
    );
  };
  const setPhase = (next: Phase) => {
    phase = next;
    render();
  };

  await note(
    resumed
      ? `turn ${n} picked up again after its worker stopped (attempt ${turnOf(task).attempts})`
      : `turn ${n} started`,
  );
  log.info({ resumed }, 'turn started');
  render();

  const tracker = deps.cancel.track(taskId, n);
  const abort = new AbortController();
  const onStop = () => abort.abort(tracker.signal.reason);
  tracker.signal.addEventListener('abort', onStop, { once: true });
  const onShutdown = () => abort.abort(new Error('shutdown'));
  deps.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
  if (await deps.cancel.isRequested(taskId, n)) abort.abort(new Error('stopped'));

  let workspace: GitWorkspace | undefined;
  let session: SandboxSession | undefined;
  let outcome: Outcome = { state: 'failed', endReason: 'error', error: 'The turn ended unexpectedly.' };
  const patch: Partial<Turn> = {};
  let turnTimeoutMs = deps.turnTimeoutMs;
  let budget: TurnBudget | undefined;
  let idleTimeoutMs = deps.idleTimeoutMs;
  try {
    // The repository's settings, always from its default branch: never from the change request's
    // head, which the requester controls.
    const ref = task.repo.defaultBranch;
    const loaded = await loadRepoSettings(forge, ref, {
      allowedAgents: deps.allowedAgents ?? [...deps.agents.keys()],
      triggerLabel: deps.triggerLabel ?? 'forge',
      repoTriggerLabels: deps.repoTriggerLabels ?? [],
      turnTimeout: deps.turnTimeoutMs,
      idleTimeout: deps.idleTimeoutMs,
      ...(deps.maxAgentSteps !== undefined ? { maxAgentSteps: deps.maxAgentSteps } : {}),
      ...(deps.maxTaskCostUsd !== undefined ? { maxTaskCostUsd: deps.maxTaskCostUsd } : {}),
      ...(deps.budget ? { maxTaskTokens: deps.budget.limits.maxTaskTokens } : {}),
      ...(deps.budget ? { maxRepoDailyCostUsd: deps.budget.limits.maxRepoDailyCostUsd } : {}),
    });
    const repo: RepoSettings = loaded.settings;
    if (loaded.problems.length) {
      await note(
        `${forge.words.settingsPath}: ${loaded.problems.length} problem(s); the turn runs without those settings`,
      );
      // Once per turn: the marker makes a retried job edit the same comment.
      await forge
        .ensureComment(
          where,
          `<!-- forge:repo-settings:${taskId}:${n} -->`,
          deps.redactor.redact(renderSettingsProblems(loaded.problems, ref, forge.words.settingsPath)),
        )
        .then(() => reporter.writes++)
        .catch((error: unknown) => log.warn({ err: error }, 'could not report settings problems'));
    }
    if (repo.limits?.turnTimeoutMs !== undefined) turnTimeoutMs = repo.limits.turnTimeoutMs;
    if (repo.limits?.idleTimeoutMs !== undefined) idleTimeoutMs = repo.limits.idleTimeoutMs;
    // Review feedback is read once, now: what the agent sees cannot change while it works.
    const reviews = await loadTurnFeedback(task, turnOf(task), forge, { ...deps, note });
    task = reviews.task;
    const agentName = turnOf(task).options.agent ?? 'command';
    const agent = deps.agents.get(agentName);
    if (!agent) throw new Error(`the agent "${agentName}" is not configured on this Forge`);
    if (deps.budget) {
      budget = new TurnBudget({
        task,
        turn: n,
        repo: task.repo,
        repository: forge.words.repository,
        limits: effectiveLimits(deps.budget.limits, repo.limits),
        ledger: deps.budget.ledger,
        ...(deps.gateway ? { gateway: deps.gateway } : {}),
        // The token outlives no turn: its time limit plus the grace to push the work.
        grantTtlMs: turnTimeoutMs + 10 * 60_000,
        onCap: (hit) => {
          void note(`limit reached: ${hit.message}`);
          abort.abort(new LimitReached(hit));
        },
        onUsage: (usage) => {
          // Shown live in the sticky comment and the check run; stored when the turn ends.
          turnOf(task).usage = usage;
          render();
        },
        onBlocked: (target) =>
          void note(`egress proxy refused a connection to ${target} (not in FORGE_EGRESS_ALLOW)`),
      });
    }
    // Refuses the turn before any work when the task or repository has no budget left.
    const model = await budget?.start();
    const creds = await forge.gitCredentials();
    deps.redactor.add(creds.password);
    // Installation tokens live an hour; forget each one well after that so the redactor stays small.
    setTimeout(() => deps.redactor.remove(creds.password), 2 * 3_600_000).unref();
    // A plan turn pushes nothing: on a task without a branch yet it reads the default branch and
    // leaves the branch to the turn that makes the change.
    const planning = turnOf(task).mode === 'plan';
    const branchless = planning && !task.branch && !task.changeRequest;
    let remoteHasBranch = false;
    if (!branchless) {
      const branch = await resolveBranch(task, forge, repo.branchPrefix ?? DEFAULT_BRANCH_PREFIX);
      task = (
        await deps.store.update(taskId, (t) => {
          t.branch ??= branch;
        })
      ).task;
      remoteHasBranch = await forge.branchExists(task.branch!);
    }
    workspace = await GitWorkspace.clone({
      root: join(deps.workspaceRoot, 'checkouts'),
      taskId,
      turn: n,
      cloneUrl: task.repo.cloneUrl,
      creds,
      branch: remoteHasBranch ? task.branch! : task.repo.defaultBranch,
      botName: deps.gitAuthor.name,
      botEmail: deps.gitAuthor.email,
      mirror: deps.gitMirror,
    });
    if (!branchless && !remoteHasBranch) await workspace.createBranch(task.branch!);
    if (task.changeRequest) checkSha = await workspace.headSha();

    const image = deps.imageFor?.(agentName);
    session = await deps.sandbox.create({
      checkoutDir: workspace.dir,
      homeDir: join(deps.workspaceRoot, 'homes', taskId),
      env: {},
      labels: { 'forge.task': taskId, 'forge.turn': String(n) },
      ...(image ? { image } : {}),
    });
    const startedAt = Date.now();
    for (const [i, command] of (repo.setup ?? []).entries()) {
      if (abort.signal.aborted) break;
      await note(`setup ${i + 1}/${repo.setup!.length} (${forge.words.settingsPath}): $ ${command}`);
      const ran = await session.exec(['sh', '-c', command], {
        // Setup (e.g. `npm ci`) reaches the network only through the egress proxy.
        ...(model ? { env: proxyEnvironment(model) } : {}),
        signal: abort.signal,
        timeoutMs: Math.max(1000, turnTimeoutMs - (Date.now() - startedAt)),
        idleTimeoutMs,
        onLine: (_stream, line) => lines.push(line),
      });
      await lines.flush();
      if (abort.signal.aborted) break;
      if (ran.end !== 'exited' || ran.exitCode !== 0) {
        const how = ran.end === 'exited' ? `exit code ${ran.exitCode}` : ran.end.replace('_', ' ');
        throw new SetupFailed(
          `The ${forge.words.repository}'s setup command \`${command.replace(/`/g, "'").slice(0, 200)}\` (from \`${forge.words.settingsPath}\`) failed (${how}), so the agent did not run. Its output is in the task log.`,
        );
      }
      await note(`setup ${i + 1} done`);
    }
    setPhase('agent');
    await note(`agent ${agentName} starting${image && deps.sandbox.kind === 'docker' ? ` in ${image}` : ''}`);
    const turn = turnOf(task);
    const result: AgentResult = abort.signal.aborted
      ? { conclusion: 'cancelled' }
      : await agent.run(
          {
            taskId,
            // A resumed session's prompt, and one for a new session should the CLI have lost it.
            ...buildTurnPrompts(task, turn, forge.words, {
              ...(repo.testCommand ? { testCommand: repo.testCommand } : {}),
              ...(repo.instructions ? { instructions: repo.instructions } : {}),
              ...(reviews.feedback ? { feedback: reviews.feedback } : {}),
              resumable: canResumeSession(agentName, task.sessions),
            }),
            ...((turn.options.model ?? deps.agentModels?.[agentName])
              ? { model: turn.options.model ?? deps.agentModels?.[agentName] }
              : {}),
            ...(task.sessions?.[agentName] ? { sessionId: task.sessions[agentName] } : {}),
          },
          {
            session,
            ...(model ? { model } : {}),
            signal: abort.signal,
            timeoutMs: Math.max(1000, turnTimeoutMs - (Date.now() - startedAt)),
            idleTimeoutMs,
            onLine: (_stream, line) => lines.push(line),
            onEvent: (event: AgentEvent) => {
              if (event.type === 'tool') activity = `${event.name}${event.detail ? `: ${event.detail}` : ''}`;
              else if (event.type === 'message') activity = event.text;
              else return;
              render();
            },
          },
        );
    await lines.flush();
    patch.summary = result.summary ? deps.redactor.redact(result.summary).slice(0, 20_000) : undefined;
    // The gateway's measurement wins over what the CLI says it used.
    const usage = budget?.usage() ?? result.usage;
    if (usage) patch.usage = usage;
    if (result.sessionId) {
      const sessionId = result.sessionId;
      task = (
        await deps.store.update(taskId, (t) => {
          t.sessions = { ...t.sessions, [agentName]: sessionId };
        })
      ).task;
    }
    outcome = outcomeOf(result, abort.signal, deps, turnTimeoutMs);
    await note(
      `agent finished: ${result.conclusion}${result.exitCode !== undefined ? ` (exit ${result.exitCode})` : ''}`,
    );

    if (planning) {
      // The user asked for a plan, not for changes: nothing is committed, and anything the agent
      // changed anyway is left out and listed.
      const changed = await workspace.changedFiles();
      if (changed.length) {
        patch.discardedPaths = changed.map((p) => p.replace(/\/$/, ''));
        await note(`plan turn: left out ${changed.length} file(s) the agent changed`);
      }
    } else {
      // Whatever happened, the agent's work is kept: committed (as WIP when the turn did not
      // complete) and pushed.
      setPhase('pushing');
      const wip = outcome.state !== 'completed';
      const commit = await workspace.commitAll({
        message: commitMessage(task, turnOf(task), wip, forge.words),
        authorName: deps.gitAuthor.name,
        authorEmail: deps.gitAuthor.email,
        coAuthors: [coAuthor(turnOf(task), forge.words)],
        ...(forge.words.unpushable ? { exclude: forge.words.unpushable.matches } : {}),
      });
      if (commit?.excluded.length) patch.excludedPaths = commit.excluded;
      if (!commit?.sha) {
        patch.noChanges = true;
        await note('no changes to commit');
      } else {
        const pushed = await pushTurnCommit({
          workspace,
          creds,
          branch: task.branch!,
          sha: commit.sha,
          turn: n,
          note,
          log,
        });
        if (!pushed.ok) {
          outcome = { state: 'failed', endReason: 'push_rejected', error: pushed.error };
        } else {
          const { sha } = pushed;
          patch.commitSha = sha;
          checkSha = sha;
          await note(`pushed ${sha.slice(0, 7)} to ${task.branch}`);
          if (!task.changeRequest) {
            setPhase('change_request');
            const cr = await forge.createChangeRequest({
              head: task.branch!,
              base: task.repo.defaultBranch,
              title: oneLineTitle(task, turnOf(task)),
              body: deps.redactor.redact(
                renderPullRequestBody(task, { ...turnOf(task), ...patch }, forge.words),
              ),
              draft: (repo.pullRequests ? repo.pullRequests === 'draft' : deps.draftPullRequests) || wip,
            });
            task = (
              await deps.store.update(taskId, (t) => {
                t.changeRequest = { number: cr.number, url: cr.url };
              })
            ).task;
            await deps.store.indexChangeRequest(task, cr.number);
            await note(`opened ${forge.words.changeRequestShort} ${forge.words.changeRequestRef(cr.number)}`);
          }
        }
      }
    }
  } catch (error) {
    log.error({ err: error }, 'turn failed');
    if (error instanceof LimitReached) {
      outcome = { state: 'cancelled', endReason: 'limit', error: error.message };
    } else {
      const explained = error instanceof SetupFailed ? error.message : explainError(error, forge.words);
      outcome = { state: 'failed', endReason: 'error', error: deps.redactor.redact(explained) };
    }
  } finally {
    tracker.signal.removeEventListener('abort', onStop);
    // The worker's shutdown signal outlives every turn: leave no listener behind.
    deps.shutdownSignal?.removeEventListener('abort', onShutdown);
    tracker.release();
    await budget
      ?.finish()
      .catch((error: unknown) => log.warn({ err: error }, 'could not book the turn cost'));
    await lines.flush().catch(() => undefined);
    await session?.destroy().catch((error: unknown) => log.warn({ err: error }, 'sandbox cleanup failed'));
    await workspace
      ?.dispose()
      .catch((error: unknown) => log.warn({ err: error }, 'workspace cleanup failed'));
  }

  task = (
    await deps.store.update(taskId, (t) => {
      const current = turnOf(t);
      if (isFinished(current.state)) return;
      transitionTurn(t, n, outcome.state, {
        ...patch,
        ...(outcome.endReason ? { endReason: outcome.endReason } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      });
      // A finished plan waits for `/forge approve`.
      if (current.mode === 'plan' && outcome.state === 'completed' && patch.summary) t.pendingPlan = n;
    })
  ).task;
  phase = 'finished';
  render();
  await reporter.flush();
  task = (await deps.store.get(taskId)) ?? task;
  const final = turnOf(task);
  reporter.writes += await answerThreads(task, final, forge, deps).catch((error: unknown) => {
    log.warn({ err: error }, 'could not answer in the review threads');
    return 0;
  });
  await note(`turn ${n} ${turnOf(task).state}${outcome.error ? `: ${outcome.error}` : ''}`);
  log.info({ state: turnOf(task).state, writes: reporter.writes }, 'turn finished');
  deps.onTurnWrites?.(reporter.writes);
  await deps.scheduler.dispatchNext(taskId);
}

async function resolveBranch(task: Task, forge: Forge, prefix: string): Promise<string> {
  if (task.changeRequest) {
    const cr = await forge.getChangeRequest(task.changeRequest.number);
    if (cr.isFork)
      throw new Error(`this ${forge.words.changeRequest} comes from a fork, which Forge does not push to`);
    return cr.headBranch;
  }
  if (task.branch) return task.branch;
  return branchName(task.issueNumber, task.issueTitle, (name) => forge.branchExists(name), prefix);
}

function outcomeOf(result: AgentResult, signal: AbortSignal, deps: TurnDeps, timeoutMs: number): Outcome {
  const conclusion: AgentConclusion = result.conclusion;
  if (conclusion === 'success') return { state: 'completed' };
  if (signal.reason instanceof LimitReached) {
    return { state: 'cancelled', endReason: 'limit', error: signal.reason.message };
  }
  if (conclusion === 'cancelled' || signal.aborted) {
    const shutdown = signal.reason instanceof Error && signal.reason.message === 'shutdown';
    return {
      state: 'cancelled',
      endReason: shutdown ? 'worker_lost' : 'stopped',
      error: shutdown ? 'Forge was shut down while this turn ran.' : 'Stopped on request (`/forge stop`).',
    };
  }
  if (conclusion === 'timed_out') {
    return {
      state: 'cancelled',
      endReason: result.end === 'idle_timeout' ? 'idle_timeout' : 'timeout',
      error: result.error ?? `The turn reached its time limit (${Math.round(timeoutMs / 60_000)} minutes).`,
    };
  }
  return {
    state: 'failed',
    endReason: 'agent_failed',
    error: deps.redactor.redact(result.error ?? 'The agent failed.'),
  };
}

function commitMessage(task: Task, turn: Turn, wip: boolean, words: ForgeWords): string {
  const title = `${wip ? 'WIP: ' : ''}${turn.instruction.replace(/\s+/g, ' ').trim().slice(0, 64) || task.issueTitle.slice(0, 64)}`;
  return `${title}\n\nTurn ${turn.n} of Forge task ${task.id}, asked by @${turn.requestedBy} on ${refOf(words, conversationOf(turn.place))}.`;
}

function coAuthor(turn: Turn, words: ForgeWords): { name: string; email: string } {
  return { name: turn.requestedBy, email: words.noreplyEmail(turn.requestedBy, turn.requestedById) };
}

function oneLineTitle(task: Task, turn: Turn): string {
  const base = task.issueTitle.trim() || turn.instruction;
  return base.replace(/\s+/g, ' ').slice(0, 120);
}

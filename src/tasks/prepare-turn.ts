import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentRunner, ModelAccess } from '../agents/types.js';
import {
  DEFAULT_BRANCH_PREFIX,
  loadRepoSettings,
  type RepoSettings,
  renderSettingsProblems,
} from '../config/repo-settings.js';
import type { Forge, GitCredentials } from '../forge/types.js';
import { branchName } from '../git/branch-name.js';
import { GitWorkspace } from '../git/workspace.js';
import type { SandboxSession } from '../sandbox/types.js';
import type { FeedbackSnapshot } from './feedback.js';
import { homesDir } from './home-sweeper.js';
import { adoptPushedCommit } from './recover-turn.js';
import { effectiveLimits, LimitReached, TurnBudget } from './turn-budget.js';
import { loadTurnFeedback } from './turn-feedback.js';
import type { TurnRun } from './turn-run.js';
import type { Task } from './types.js';

/** What a turn holds and must release whatever happens; filled in as each is acquired. */
export interface TurnResources {
  budget?: TurnBudget;
  workspace?: GitWorkspace;
  session?: SandboxSession;
}

/** Everything the agent step needs, once the turn is prepared. */
export interface PreparedTurn {
  settings: RepoSettings;
  turnTimeoutMs: number;
  idleTimeoutMs: number;
  feedback?: FeedbackSnapshot;
  agentName: string;
  agent: AgentRunner;
  /** How the agent reaches its model (through the gateway), when there is a gateway. */
  model?: ModelAccess;
  creds: GitCredentials;
  /** A plan turn pushes nothing. */
  planning: boolean;
  image?: string;
  workspace: GitWorkspace;
  session: SandboxSession;
}

/**
 * The turn before the agent, given the repository's settings: the branch and a checkout of it,
 * review feedback, the budget, and a sandbox on the checkout. Undefined when the checkout shows that an
 * earlier attempt of the turn already pushed its work (nothing is left to do but finish).
 */
export async function prepareTurn(
  run: TurnRun,
  settings: RepoSettings,
  held: TurnResources,
): Promise<PreparedTurn | undefined> {
  const { deps, forge } = run;
  const turnTimeoutMs = settings.limits?.turnTimeoutMs ?? deps.turnTimeoutMs;
  const idleTimeoutMs = settings.limits?.idleTimeoutMs ?? deps.idleTimeoutMs;
  const agentName = run.turn.options.agent ?? 'command';
  const agent = deps.agents.get(agentName);
  if (!agent) throw new Error(`the agent "${agentName}" is not configured on this Forge`);
  const creds = await forge.gitCredentials();
  deps.redactor.add(creds.password);
  // Installation tokens live an hour; forget each one well after that so the redactor stays small.
  setTimeout(() => deps.redactor.remove(creds.password), 2 * 3_600_000).unref();
  const planning = run.turn.mode === 'plan';
  const workspace = await checkout(run, settings, creds, planning);
  held.workspace = workspace;
  // A worker that died while pushing, or right after, left the turn's commit on the branch:
  // checked before the budget, which that attempt may have used up.
  if (run.turn.attempts > 1 && !planning && (await adoptPushedCommit(run, workspace))) return undefined;
  // Review feedback as snapshotted when the turn was asked for (read now only if that failed).
  const reviews = await loadTurnFeedback(run.task, run.turn, forge, { ...deps, note: (t) => run.note(t) });
  run.task = reviews.task;
  if (deps.budget) held.budget = newBudget(run, settings, turnTimeoutMs);
  // Refuses the turn before the agent runs when the task or repository has no budget left.
  const model = await held.budget?.start();
  // A turn on a change request hangs its check on the head it starts from.
  if (run.task.changeRequest) run.checkSha = await workspace.headSha();
  const image = deps.imageFor?.(agentName);
  const session = await deps.sandbox.create({
    checkoutDir: workspace.dir,
    homeDir: join(homesDir(deps.workspaceRoot), run.taskId),
    env: {},
    labels: { 'forge.task': run.taskId, 'forge.turn': String(run.n) },
    ...(image ? { image } : {}),
  });
  held.session = session;
  return {
    settings,
    turnTimeoutMs,
    idleTimeoutMs,
    ...(reviews.feedback ? { feedback: reviews.feedback } : {}),
    agentName,
    agent,
    ...(model ? { model } : {}),
    creds,
    planning,
    ...(image ? { image } : {}),
    workspace,
    session,
  };
}

/**
 * The repository's settings, always from its default branch: never from the change request's
 * head, which the requester controls. Problems are reported once per turn and left out.
 */
export async function loadSettings(run: TurnRun): Promise<RepoSettings> {
  const { deps, forge, task } = run;
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
  if (loaded.problems.length) {
    await run.note(
      `${forge.words.settingsPath}: ${loaded.problems.length} problem(s); the turn runs without those settings`,
    );
    // Once per turn: the marker makes a retried job edit the same comment.
    await forge
      .ensureComment(
        run.where,
        `<!-- forge:repo-settings:${task.id}:${run.n} -->`,
        deps.redactor.redact(renderSettingsProblems(loaded.problems, ref, forge.words.settingsPath)),
      )
      .then(() => run.reporter.writes++)
      .catch((error: unknown) => run.log.warn({ err: error }, 'could not report settings problems'));
  }
  return loaded.settings;
}

function newBudget(run: TurnRun, settings: RepoSettings, turnTimeoutMs: number): TurnBudget {
  const { deps, forge, task } = run;
  const budget = deps.budget!;
  return new TurnBudget({
    task,
    turn: run.n,
    repo: task.repo,
    repository: forge.words.repository,
    limits: effectiveLimits(budget.limits, settings.limits),
    ledger: budget.ledger,
    ...(deps.gateway ? { gateway: deps.gateway } : {}),
    // The token outlives no turn: its time limit plus the grace to push the work.
    grantTtlMs: turnTimeoutMs + 10 * 60_000,
    onCap: (hit) => {
      void run.note(`limit reached: ${hit.message}`);
      run.abort.abort(new LimitReached(hit));
    },
    onUsage: (usage) => {
      // Shown live in the sticky comment and the check run; stored when the turn ends.
      run.turn.usage = usage;
      run.render();
    },
    onBlocked: (target) =>
      void run.note(`egress proxy refused a connection to ${target} (not in FORGE_EGRESS_ALLOW)`),
  });
}

/**
 * Clones the turn's branch (the change request's head, the task's branch, or a new one from the
 * default branch). A plan turn on a task without a branch yet reads the default branch and leaves
 * the branch to the turn that makes the change.
 */
async function checkout(
  run: TurnRun,
  settings: RepoSettings,
  creds: GitCredentials,
  planning: boolean,
): Promise<GitWorkspace> {
  const { deps, forge } = run;
  const branchless = planning && !run.task.branch && !run.task.changeRequest;
  let remoteHasBranch = false;
  if (!branchless) {
    const branch = await resolveBranch(run.task, forge, settings.branchPrefix ?? DEFAULT_BRANCH_PREFIX);
    await run.update((t) => {
      t.branch ??= branch;
    });
    remoteHasBranch = await forge.branchExists(run.task.branch!);
  }
  const task = run.task;
  const root = join(deps.workspaceRoot, 'checkouts');
  const attempt = run.turn.attempts;
  await removeEarlierCheckouts(root, task.id, run.n, attempt);
  const workspace = await GitWorkspace.clone({
    root,
    taskId: checkoutKey(task.id, attempt),
    turn: run.n,
    cloneUrl: task.repo.cloneUrl,
    creds,
    branch: remoteHasBranch ? task.branch! : task.repo.defaultBranch,
    botName: deps.gitAuthor.name,
    botEmail: deps.gitAuthor.email,
    mirror: deps.gitMirror,
  });
  try {
    if (!branchless && !remoteHasBranch) await workspace.createBranch(task.branch!);
  } catch (error) {
    await workspace.dispose().catch(() => undefined);
    throw error;
  }
  return workspace;
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

/**
 * Each attempt of a turn checks out into a directory of its own (`tasks/<task>[.<attempt>]/turn-<n>`):
 * an older attempt that is still running (its worker lost the job's lock) must not have its
 * checkout replaced under it, nor remove the newer attempt's when it cleans up.
 */
function checkoutKey(taskId: string, attempt: number): string {
  return attempt > 1 ? `${taskId}.${attempt}` : taskId;
}

/**
 * What earlier attempts of the turn left behind when their worker died. An earlier attempt still
 * running has been superseded: it stops without pushing whatever happens to its checkout.
 */
async function removeEarlierCheckouts(
  root: string,
  taskId: string,
  n: number,
  attempt: number,
): Promise<void> {
  for (let earlier = 1; earlier < attempt; earlier++) {
    const dir = join(root, 'tasks', checkoutKey(taskId, earlier));
    await rm(join(dir, `turn-${n}`), { recursive: true, force: true });
    await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Caps on what a turn may spend, measured by the model gateway (never by what a CLI reports):
 * model requests (agent steps) per turn, dollars and tokens per task, dollars per repository per
 * UTC day. A cap never throws work away: the turn stops and run-turn commits what the agent did.
 */
import type { Redis } from 'ioredis';
import type { RepoRef } from '../forge/types.js';
import type { Task } from './types.js';

export interface BudgetLimits {
  maxAgentSteps: number;
  maxTaskCostUsd: number;
  maxTaskTokens: number;
  maxRepoDailyCostUsd: number;
}

/** What a turn has used so far, as the gateway measured it. */
export interface Spend {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
}

export type CapKind = 'agent_steps' | 'task_cost' | 'task_tokens' | 'repo_daily_cost';

export interface CapHit {
  cap: CapKind;
  /** One sentence for the user: which cap, how much, and who can raise it. */
  message: string;
}

/** Spend of a task's earlier turns. */
export function taskSpend(task: Task, exceptTurn?: number): { costUsd: number; tokens: number } {
  let costUsd = 0;
  let tokens = 0;
  for (const turn of task.turns) {
    if (turn.n === exceptTurn || !turn.usage) continue;
    costUsd += turn.usage.costUsd ?? 0;
    tokens += turn.usage.inputTokens + turn.usage.outputTokens;
  }
  return { costUsd, tokens };
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/**
 * Before a turn starts: is any budget already used up? `repository` is the host's word for one
 * (GitHub: repository, GitLab: project).
 */
export function capBeforeTurn(
  limits: BudgetLimits,
  before: { costUsd: number; tokens: number },
  repoToday: number,
  repository = 'repository',
): CapHit | undefined {
  if (before.costUsd >= limits.maxTaskCostUsd)
    return {
      cap: 'task_cost',
      message: `This task has used ${usd(before.costUsd)} of its ${usd(limits.maxTaskCostUsd)} model budget, so no further turn runs. An operator can raise \`FORGE_MAX_TASK_COST_USD\`, or start a new task.`,
    };
  if (before.tokens >= limits.maxTaskTokens)
    return {
      cap: 'task_tokens',
      message: `This task has used ${before.tokens.toLocaleString('en-US')} of its ${limits.maxTaskTokens.toLocaleString('en-US')} tokens, so no further turn runs. An operator can raise \`FORGE_MAX_TASK_TOKENS\`.`,
    };
  if (repoToday >= limits.maxRepoDailyCostUsd)
    return {
      cap: 'repo_daily_cost',
      message: `This ${repository} has used ${usd(repoToday)} of its ${usd(limits.maxRepoDailyCostUsd)} daily model budget. Ask again after midnight UTC (\`/forge continue\`), or an operator can raise \`FORGE_MAX_REPO_DAILY_COST_USD\`.`,
    };
  return undefined;
}

/** While a turn runs: has its spend so far (on top of what was spent before) crossed a cap? */
export function capDuringTurn(
  limits: BudgetLimits,
  before: { costUsd: number; tokens: number },
  repoToday: number,
  turn: Spend,
  repository = 'repository',
): CapHit | undefined {
  if (turn.requests >= limits.maxAgentSteps)
    return {
      cap: 'agent_steps',
      message: `The turn reached its limit of ${limits.maxAgentSteps} agent steps (model requests).`,
    };
  const cost = turn.costUsd ?? 0;
  if (before.costUsd + cost >= limits.maxTaskCostUsd)
    return {
      cap: 'task_cost',
      message: `The task reached its model budget of ${usd(limits.maxTaskCostUsd)} (this turn: ${usd(cost)}).`,
    };
  const tokens = turn.inputTokens + turn.outputTokens;
  if (before.tokens + tokens >= limits.maxTaskTokens)
    return {
      cap: 'task_tokens',
      message: `The task reached its limit of ${limits.maxTaskTokens.toLocaleString('en-US')} tokens.`,
    };
  if (repoToday + cost >= limits.maxRepoDailyCostUsd)
    return {
      cap: 'repo_daily_cost',
      message: `The ${repository} reached its daily model budget of ${usd(limits.maxRepoDailyCostUsd)}.`,
    };
  return undefined;
}

/** Dollars spent per repository per UTC day, shared by every worker through Redis. */
export class RepoCostLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(repo: RepoRef, now: Date): string {
    return `${this.prefix}cost:${repo.forge}:${repo.path}:${now.toISOString().slice(0, 10)}`;
  }

  async spentToday(repo: RepoRef, now = new Date()): Promise<number> {
    return Number((await this.redis.get(this.key(repo, now))) ?? 0);
  }

  async add(repo: RepoRef, costUsd: number, now = new Date()): Promise<void> {
    if (!(costUsd > 0)) return;
    const key = this.key(repo, now);
    await this.redis
      .multi()
      .incrbyfloat(key, costUsd)
      .expire(key, 3 * 86_400)
      .exec();
  }
}

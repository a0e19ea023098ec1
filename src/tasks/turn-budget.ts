/**
 * A turn's budget: checked before the turn starts, then enforced at the model gateway on every
 * model request. A cap never throws work away — it stops the agent like `/forge stop` does, and
 * run-turn commits and pushes what the agent changed.
 */
import type { ModelAccess, Usage } from '../agents/types.js';
import type { RepoRef } from '../forge/types.js';
import type { GrantUsage, ModelGateway, TurnGrant } from '../gateway/types.js';
import {
  type BudgetLimits,
  type CapHit,
  capBeforeTurn,
  capDuringTurn,
  type RepoCostLedger,
  taskSpend,
} from './budget.js';
import type { Task } from './types.js';

export interface BudgetDeps {
  limits: BudgetLimits;
  ledger: RepoCostLedger;
}

/** A cap stopped the turn; `hit.message` tells the user which and how to go on. */
export class LimitReached extends Error {
  constructor(readonly hit: CapHit) {
    super(hit.message);
    this.name = 'LimitReached';
  }
}

/** The operator's limits, narrowed (never widened) by a repository's settings. */
export function effectiveLimits(
  operator: BudgetLimits,
  repo: Partial<BudgetLimits> | undefined,
): BudgetLimits {
  const narrowed = (key: keyof BudgetLimits) =>
    Math.min(operator[key], repo?.[key] ?? Number.POSITIVE_INFINITY);
  return {
    maxAgentSteps: narrowed('maxAgentSteps'),
    maxTaskCostUsd: narrowed('maxTaskCostUsd'),
    maxTaskTokens: narrowed('maxTaskTokens'),
    maxRepoDailyCostUsd: narrowed('maxRepoDailyCostUsd'),
  };
}

export interface TurnBudgetOptions {
  task: Task;
  turn: number;
  repo: RepoRef;
  /** The host's word for a repository in cap messages (`ForgeWords.repository`). */
  repository?: string;
  limits: BudgetLimits;
  ledger: RepoCostLedger;
  gateway?: ModelGateway;
  /** How long the turn's gateway token stays valid at most. */
  grantTtlMs?: number;
  /** Called once when a cap is reached mid-turn: the caller stops the agent. */
  onCap(hit: CapHit): void;
  onUsage(usage: Usage): void;
  onBlocked(target: string): void;
}

/**
 * Tracks one turn's spend. `start()` refuses a turn whose budget is already used up; `access` is
 * what the agent gets to reach its model (undefined without a gateway); `usage()` is the measured
 * spend for the turn record.
 */
export class TurnBudget {
  readonly #options: TurnBudgetOptions;
  readonly #before: { costUsd: number; tokens: number };
  #grant: TurnGrant | undefined;
  /** Today's spend of the repository's other turns, as last read from the ledger. */
  #repoOthers = 0;
  /** Cost of this turn already added to the ledger. */
  #booked = 0;
  #hit: CapHit | undefined;
  #ledgerWrites: Promise<unknown> = Promise.resolve();

  constructor(options: TurnBudgetOptions) {
    this.#options = options;
    this.#before = taskSpend(options.task, options.turn);
  }

  /** Throws LimitReached when the task or repository has no budget left for another turn. */
  async start(): Promise<ModelAccess | undefined> {
    const { limits, ledger, repo, gateway, task, turn } = this.#options;
    this.#repoOthers = await ledger.spentToday(repo);
    const hit = capBeforeTurn(limits, this.#before, this.#repoOthers, this.#options.repository);
    if (hit) throw new LimitReached(hit);
    if (!gateway) return undefined;
    this.#grant = gateway.grant({
      taskId: task.id,
      turn,
      ...(this.#options.grantTtlMs ? { ttlMs: this.#options.grantTtlMs } : {}),
      admit: (usage) => this.#admit(usage),
      onUsage: (usage) => this.#onUsage(usage),
      onBlocked: (target) => this.#options.onBlocked(target),
    });
    return this.#grant.access;
  }

  get hit(): CapHit | undefined {
    return this.#hit;
  }

  /** What the gateway measured, or undefined when the agent made no model request through it. */
  usage(): Usage | undefined {
    const measured = this.#grant?.usage();
    if (!measured || measured.requests === 0) return undefined;
    return toUsage(measured);
  }

  /** Revokes the grant and books the turn's cost; idempotent. */
  async finish(): Promise<void> {
    this.#grant?.revoke();
    const measured = this.#grant?.usage();
    if (measured) this.#book(measured.costUsd ?? 0);
    await this.#ledgerWrites;
  }

  #admit(usage: GrantUsage): string | undefined {
    // `usage.requests` counts the request about to be made; the cap is on requests already made.
    const hit = capDuringTurn(
      this.#options.limits,
      this.#before,
      this.#repoOthers,
      { ...usage, requests: usage.requests - 1 },
      this.#options.repository,
    );
    if (!hit) return undefined;
    if (!this.#hit) {
      this.#hit = hit;
      this.#options.onCap(hit);
    }
    return `Forge: ${hit.message}`;
  }

  #onUsage(usage: GrantUsage): void {
    this.#book(usage.costUsd ?? 0);
    this.#options.onUsage(toUsage(usage));
  }

  /** Adds the turn's new cost to the repository's daily ledger and refreshes the others' share. */
  #book(costUsd: number): void {
    const delta = costUsd - this.#booked;
    if (!(delta > 0)) return;
    this.#booked = costUsd;
    const { ledger, repo } = this.#options;
    this.#ledgerWrites = this.#ledgerWrites
      .then(() => ledger.add(repo, delta))
      .then(() => ledger.spentToday(repo))
      .then((total) => {
        this.#repoOthers = Math.max(0, total - this.#booked);
      })
      .catch(() => undefined);
  }
}

function toUsage(u: GrantUsage): Usage {
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    ...(u.costUsd !== undefined ? { costUsd: u.costUsd } : {}),
  };
}

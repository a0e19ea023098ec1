import type { Logger } from 'pino';
import type { AgentRunner } from '../agents/types.js';
import type { ForgeFactory } from '../forge/types.js';
import type { ModelGateway } from '../gateway/types.js';
import type { Redactor } from '../observability/redact.js';
import type { StickyComments } from '../progress/stickies.js';
import type { Sandbox } from '../sandbox/types.js';
import type { CancelBus } from './cancel.js';
import type { TurnScheduler } from './scheduler.js';
import type { TaskStore } from './store.js';
import type { BudgetDeps } from './turn-budget.js';

/** Everything a worker gives `runTurn`. */
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
  /** How often a running turn checks that no newer attempt took it over (default 5 s). */
  fenceCheckMs?: number;
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

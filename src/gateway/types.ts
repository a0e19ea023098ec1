/**
 * The model gateway: agents reach their model only through it, so provider keys never enter a
 * sandbox. Each turn gets a grant: a token valid only at the gateway and only until the grant is
 * revoked. The gateway swaps the token for the real key, forwards to the configured upstream,
 * streams the response through unchanged and measures usage itself (whatever the CLI reports).
 */
import type { ModelAccess } from '../agents/types.js';
import type { Spend } from '../tasks/budget.js';

export type Provider = 'anthropic' | 'openai' | 'gemini';

/** Usage the gateway measured for one model, within one grant. */
export interface ModelUsage {
  /** The model the agent asked for (request body or path). */
  model: string;
  provider: Provider;
  requests: number;
  /** Every prompt token, cached or not. */
  inputTokens: number;
  /** Output tokens, including reasoning/thinking tokens. */
  outputTokens: number;
  /** Of `inputTokens`: read from the provider's prompt cache (billed at a discount). */
  cacheReadTokens: number;
  /** Of `inputTokens`: written to the prompt cache (Anthropic; billed at a premium). */
  cacheWriteTokens: number;
  /** Absent when the model has no known price. */
  costUsd?: number;
}

/** What a grant's turn has used so far, in total and per model. */
export interface GrantUsage extends Spend {
  byModel: ModelUsage[];
}

export interface GrantOptions {
  taskId: string;
  turn: number;
  /**
   * Asked before each generation request is forwarded, with the usage so far (including the
   * request about to be made in `requests`). A returned reason refuses the request (the agent sees
   * a provider-style error it does not retry) — this is how caps stop a turn.
   */
  admit?(usage: GrantUsage): string | undefined;
  /** After each generation response finished streaming, with the updated usage. */
  onUsage?(usage: GrantUsage): void;
  /** A connection the egress proxy refused (host:port), for the turn's log; once per target. */
  onBlocked?(target: string): void;
  /**
   * Safety net: the grant revokes itself after this long even if nobody calls `revoke` (default
   * 24 hours). Pass the turn's timeout plus a margin.
   */
  ttlMs?: number;
}

export interface TurnGrant {
  /** Base URLs and token for the agent's environment. */
  readonly access: ModelAccess;
  usage(): GrantUsage;
  /** Invalidates the token at once; idempotent. Requests and tunnels in flight are cut off. */
  revoke(): void;
}

export interface ModelGateway {
  /** Where agents reach the gateway (`FORGE_GATEWAY_URL`, or the listening address). */
  readonly url: string;
  grant(options: GrantOptions): TurnGrant;
  close(): Promise<void>;
}

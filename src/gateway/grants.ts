/**
 * Turn grants: a random token per turn, its usage, and everything in flight under it (upstream
 * requests, proxy tunnels) so revoking cuts them off. Tokens are looked up by comparing SHA-256
 * digests with `timingSafeEqual` against every live grant, never by a map lookup or `===` on the
 * token, so response timing says nothing about how close a guess was.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ModelAccess } from '../agents/types.js';
import type { PriceTable } from './prices.js';
import type { GrantOptions, GrantUsage, ModelUsage, Provider, TurnGrant } from './types.js';
import type { TokenReading } from './usage-extract.js';

export const DEFAULT_GRANT_TTL_MS = 24 * 60 * 60 * 1000;

export interface GrantEvents {
  /** A callback of the grant's owner threw; the gateway carries on. */
  onCallbackError(grant: LiveGrant, callback: string, error: unknown): void;
  /** Token was registered/unregistered, e.g. with the log redactor. */
  onToken?(token: string, live: boolean): void;
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export class LiveGrant implements TurnGrant {
  readonly access: ModelAccess;
  readonly digest: Buffer;
  private revoked = false;
  private readonly models = new Map<string, ModelUsage>();
  private requests = 0;
  private readonly inFlight = new Set<() => void>();
  private readonly blocked = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly options: GrantOptions,
    readonly token: string,
    access: ModelAccess,
    private readonly prices: PriceTable,
    private readonly events: GrantEvents,
    private readonly onRevoke: (grant: LiveGrant) => void,
  ) {
    this.access = access;
    this.digest = digest(token);
    this.timer = setTimeout(() => this.revoke(), options.ttlMs ?? DEFAULT_GRANT_TTL_MS);
    this.timer.unref();
  }

  get live(): boolean {
    return !this.revoked;
  }

  usage(): GrantUsage {
    const byModel = [...this.models.values()].map((m) => ({ ...m }));
    const usage: GrantUsage = {
      requests: this.requests,
      inputTokens: byModel.reduce((n, m) => n + m.inputTokens, 0),
      outputTokens: byModel.reduce((n, m) => n + m.outputTokens, 0),
      byModel,
    };
    const priced = byModel.filter((m) => m.costUsd !== undefined);
    if (priced.length) usage.costUsd = priced.reduce((n, m) => n + m.costUsd!, 0);
    return usage;
  }

  /**
   * Asks the owner whether one more generation request may go out; counts it if so. Returns the
   * refusal reason otherwise. A throwing `admit` refuses (fail closed).
   */
  admit(provider: Provider, model: string): string | undefined {
    if (this.revoked) return 'The turn has ended.';
    const next = this.usage();
    next.requests += 1;
    let reason: string | undefined;
    try {
      reason = this.options.admit?.(next);
    } catch (error) {
      this.events.onCallbackError(this, 'admit', error);
      reason = 'Forge could not check the turn budget.';
    }
    if (reason) return reason;
    this.requests += 1;
    this.entry(provider, model).requests += 1;
    return undefined;
  }

  /** Adds one response's tokens (and cost, when the model has a price), then tells the owner. */
  record(provider: Provider, model: string, reading: TokenReading): void {
    const entry = this.entry(provider, model);
    entry.inputTokens += reading.inputTokens;
    entry.outputTokens += reading.outputTokens;
    entry.cacheReadTokens += reading.cacheReadTokens;
    entry.cacheWriteTokens += reading.cacheWriteTokens;
    // The provider's own name for the model is the more precise one (a dated snapshot).
    const cost = this.prices.cost(reading, reading.model, model);
    if (cost !== undefined) entry.costUsd = (entry.costUsd ?? 0) + cost;
    this.call('onUsage', () => this.options.onUsage?.(this.usage()));
  }

  /** Once per target: a proxied connection was refused. */
  noteBlocked(target: string): void {
    if (this.blocked.has(target)) return;
    this.blocked.add(target);
    this.call('onBlocked', () => this.options.onBlocked?.(target));
  }

  /** Registers something to cut off on revoke; returns its un-registration. */
  track(abort: () => void): () => void {
    if (this.revoked) {
      abort();
      return () => undefined;
    }
    this.inFlight.add(abort);
    return () => this.inFlight.delete(abort);
  }

  revoke(): void {
    if (this.revoked) return;
    this.revoked = true;
    clearTimeout(this.timer);
    this.onRevoke(this);
    for (const abort of [...this.inFlight]) abort();
    this.inFlight.clear();
  }

  private entry(provider: Provider, model: string): ModelUsage {
    const key = `${provider}\u0000${model}`;
    let entry = this.models.get(key);
    if (!entry) {
      entry = {
        model,
        provider,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      };
      this.models.set(key, entry);
    }
    return entry;
  }

  private call(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.events.onCallbackError(this, name, error);
    }
  }
}

export class GrantRegistry {
  private readonly grants = new Set<LiveGrant>();

  constructor(
    private readonly options: {
      prices: PriceTable;
      access(token: string): ModelAccess;
      events: GrantEvents;
    },
  ) {}

  create(grantOptions: GrantOptions): LiveGrant {
    const token = `forge-turn-${randomBytes(32).toString('base64url')}`;
    const grant = new LiveGrant(
      grantOptions,
      token,
      this.options.access(token),
      this.options.prices,
      this.options.events,
      (g) => {
        this.grants.delete(g);
        this.options.events.onToken?.(g.token, false);
      },
    );
    this.grants.add(grant);
    this.options.events.onToken?.(token, true);
    return grant;
  }

  /** The live grant whose token is one of `candidates`, comparing every one in constant time. */
  find(candidates: readonly string[]): LiveGrant | undefined {
    let found: LiveGrant | undefined;
    for (const candidate of candidates) {
      const d = digest(candidate);
      for (const grant of this.grants) {
        if (timingSafeEqual(d, grant.digest) && grant.live) found ??= grant;
      }
    }
    return found;
  }

  revokeAll(): void {
    for (const grant of [...this.grants]) grant.revoke();
  }
}

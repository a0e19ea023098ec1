/**
 * The `limits` key of a repository's settings file. One rule for every limit: a value within the
 * operator's bound applies; one above it is refused with a problem naming the key and the bound (the
 * operator's value then applies); a limit whose bound the operator does not give cannot be set.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** Per-turn and per-task limits a repository may set, each within the operator's bound. */
export interface RepoLimits {
  /** Wall-clock time of one turn (≤ FORGE_TURN_TIMEOUT). */
  turnTimeoutMs?: number;
  /** Stop a turn whose agent printed nothing for this long (≤ FORGE_IDLE_TIMEOUT). */
  idleTimeoutMs?: number;
  /** Most model requests in one turn (≤ FORGE_MAX_AGENT_STEPS). */
  maxAgentSteps?: number;
  /** Most one task may spend on models, in US dollars (≤ FORGE_MAX_TASK_COST_USD). */
  maxTaskCostUsd?: number;
  /** Most tokens (input + output) one task may use (≤ FORGE_MAX_TASK_TOKENS). */
  maxTaskTokens?: number;
  /** Most all of the repository's tasks may spend per UTC day (≤ FORGE_MAX_REPO_DAILY_COST_USD). */
  maxRepoDailyCostUsd?: number;
}

/** The operator's bounds (ms for durations); a limit whose bound is absent cannot be set. */
export interface LimitBounds {
  turnTimeout?: number;
  idleTimeout?: number;
  maxAgentSteps?: number;
  maxTaskCostUsd?: number;
  maxTaskTokens?: number;
  maxRepoDailyCostUsd?: number;
}

type Kind = 'duration' | 'count' | 'usd' | 'tokens';

/** The `limits` keys: how each is read, and the operator setting that bounds it. */
const LIMITS = {
  turnTimeout: { out: 'turnTimeoutMs', env: 'FORGE_TURN_TIMEOUT', kind: 'duration' },
  idleTimeout: { out: 'idleTimeoutMs', env: 'FORGE_IDLE_TIMEOUT', kind: 'duration' },
  maxAgentSteps: { out: 'maxAgentSteps', env: 'FORGE_MAX_AGENT_STEPS', kind: 'count' },
  maxTaskCostUsd: { out: 'maxTaskCostUsd', env: 'FORGE_MAX_TASK_COST_USD', kind: 'usd' },
  maxTaskTokens: { out: 'maxTaskTokens', env: 'FORGE_MAX_TASK_TOKENS', kind: 'tokens' },
  maxRepoDailyCostUsd: { out: 'maxRepoDailyCostUsd', env: 'FORGE_MAX_REPO_DAILY_COST_USD', kind: 'usd' },
} as const satisfies Record<keyof LimitBounds, { out: keyof RepoLimits; env: string; kind: Kind }>;
type LimitKey = keyof typeof LIMITS;

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === undefined || !(ms > 0)) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like 90s, 15m or 2h' });
    return z.NEVER;
  }
  return ms;
});
const steps = z.number({ message: 'expected a whole number of agent steps such as 50' }).int({
  message: 'expected a whole number of agent steps such as 50',
});
const usd = z
  .union(
    [
      z.number(),
      z.string().regex(/^\$?\d+(\.\d+)?$/, { message: 'expected an amount in US dollars such as 5 or 2.50' }),
    ],
    { message: 'expected an amount in US dollars such as 5 or 2.50' },
  )
  .transform((v) => (typeof v === 'number' ? v : Number(v.replace('$', ''))));
const TOKENS_MESSAGE = 'expected a whole number of tokens such as 2000000, 500k or 2M';
const tokens = z.union([z.number(), z.string()], { message: TOKENS_MESSAGE }).transform((v, ctx) => {
  const match = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(v) : undefined;
  const n =
    typeof v === 'number'
      ? v
      : match
        ? Number(match[1]) * (match[2] === '' ? 1 : /k/i.test(match[2]!) ? 1e3 : 1e6)
        : Number.NaN;
  if (!Number.isInteger(n)) {
    ctx.addIssue({ code: 'custom', message: TOKENS_MESSAGE });
    return z.NEVER;
  }
  return n;
});
const SCHEMAS: Record<Kind, z.ZodType<number, unknown>> = { duration, count: steps, usd, tokens };

/** Parses `limits` (problems are pushed, naming `file`); undefined when no limit applies. */
export function parseLimits(
  value: unknown,
  bounds: LimitBounds,
  problems: string[],
  file: string,
): RepoLimits | undefined {
  const known = (Object.keys(LIMITS) as LimitKey[]).map((k) => `\`limits.${k}\``).join(', ');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(
      `${file}: \`limits\`: expected a mapping such as \`limits: { turnTimeout: 30m }\` (got ${shown(value)}).`,
    );
    return undefined;
  }
  const out: RepoLimits = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!Object.hasOwn(LIMITS, key)) {
      problems.push(`${file}: unknown key \`limits.${key}\` (known: ${known}).`);
      continue;
    }
    const limit = LIMITS[key as LimitKey];
    const result = SCHEMAS[limit.kind].safeParse(v);
    if (!result.success) {
      problems.push(`${file}: \`limits.${key}\`: ${result.error.issues[0]?.message} (got ${shown(v)}).`);
      continue;
    }
    const wanted = result.data;
    if (!(wanted > 0)) {
      problems.push(`${file}: \`limits.${key}\`: expected a value above zero (got ${shown(v)}).`);
      continue;
    }
    const bound = bounds[key as LimitKey];
    if (bound === undefined) {
      problems.push(
        `${file}: \`limits.${key}\` cannot be set on this Forge (its operator sets no bound for it).`,
      );
    } else if (wanted > bound) {
      problems.push(
        `${file}: \`limits.${key}\`: ${shownLimit(limit.kind, wanted)} is above this Forge's bound of ${shownLimit(limit.kind, bound)} (${limit.env}); these settings may only lower it, so the bound applies.`,
      );
    } else {
      out[limit.out] = wanted;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

function shownLimit(kind: Kind, value: number): string {
  if (kind === 'usd') return `$${value}`;
  if (kind === 'count') return `${value} steps`;
  if (kind === 'tokens') return `${value.toLocaleString('en-US')} tokens`;
  if (value % 3_600_000 === 0) return `${value / 3_600_000}h`;
  if (value % 60_000 === 0) return `${value / 60_000}m`;
  return `${Math.round(value / 1000)}s`;
}

/** A value as the settings file had it, cut short. */
export function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/**
 * Per-repository settings: `.github/forge.yml` on GitHub, `.gitlab/forge.yml` on GitLab (the forge's
 * `words.settingsPath`), read from the repository's DEFAULT BRANCH only —
 * never from a change request's head, which the requester controls. Every key is optional; a bad
 * key is dropped (and named in `problems`) while the valid ones still apply. Nothing here can widen
 * what the operator allows: agents must be in `FORGE_ALLOWED_AGENTS`, the turn limit is clamped to
 * `FORGE_TURN_TIMEOUT`, the idle, step and cost limits above FORGE_IDLE_TIMEOUT,
 * FORGE_MAX_AGENT_STEPS and FORGE_MAX_TASK_COST_USD are refused, and `allowedUsers` only narrows
 * who may trigger (write access still needed).
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Forge } from '../forge/types.js';
import { isValidBranchName } from '../git/branch-name.js';
import { parseDuration } from './duration.js';

export const DEFAULT_BRANCH_PREFIX = 'forge/';

export interface RepoSettings {
  triggerLabel?: string;
  agent?: string;
  model?: string;
  pullRequests?: 'draft' | 'ready';
  branchPrefix?: string;
  allowedUsers?: string[];
  setup?: string[];
  testCommand?: string;
  instructions?: string;
  limits?: RepoLimits;
}

/** Per-turn and per-task limits a repository may set, each within the operator's bound. */
export interface RepoLimits {
  turnTimeoutMs?: number;
  /** Stop a turn whose agent printed nothing for this long (≤ FORGE_IDLE_TIMEOUT). */
  idleTimeoutMs?: number;
  /** Most model requests in one turn (≤ FORGE_MAX_AGENT_STEPS). */
  maxAgentSteps?: number;
  /** Most one task may spend on models, in US dollars (≤ FORGE_MAX_TASK_COST_USD). */
  maxTaskCostUsd?: number;
}

/** The operator settings repository settings are checked against (a `ForgeConfig` fits). */
export interface RepoSettingsOperator {
  allowedAgents: readonly string[];
  triggerLabel: string;
  /** Labels a repository may pick as its `triggerLabel` besides the operator's own. */
  repoTriggerLabels?: readonly string[];
  /** The operator's turn time limit in ms: the most a repository may ask for. */
  turnTimeout: number;
  /**
   * The operator's bounds for the other limits (FORGE_IDLE_TIMEOUT in ms, FORGE_MAX_AGENT_STEPS,
   * FORGE_MAX_TASK_COST_USD). A limit whose bound is not given cannot be set by a repository.
   */
  idleTimeout?: number;
  maxAgentSteps?: number;
  maxTaskCostUsd?: number;
}

export interface ParsedRepoSettings {
  settings: RepoSettings;
  problems: string[];
}

const MODEL_NAME = /^[A-Za-z0-9._:/@-]{1,100}$/;
// GitHub logins (letters, digits, `-`) and GitLab usernames (also `_` and `.`).
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

const text = (max: number, what: string) =>
  z
    .string({ message: `expected ${what}` })
    .trim()
    .min(1, { message: `expected ${what}, not an empty string` })
    .max(max, { message: `expected ${what} of at most ${max} characters` });

/** A string or a list of strings (YAML lists, or one value). */
const stringList = (item: z.ZodType<string, string>, what: string) =>
  z
    .union([z.string(), z.array(z.string())], { message: `expected ${what}` })
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(item));

function schemas(op: RepoSettingsOperator) {
  const labels = [op.triggerLabel, ...(op.repoTriggerLabels ?? [])];
  return {
    triggerLabel: text(50, 'a label name').refine(
      (v) => labels.some((l) => l.toLowerCase() === v.toLowerCase()),
      {
        message: `expected one of the labels this Forge's operator enabled for repositories: ${labels.map((l) => `\`${l}\``).join(', ')} (the operator lists more in FORGE_REPO_TRIGGER_LABELS)`,
      },
    ),
    agent: z.string({ message: 'expected an agent name' }).transform((v, ctx) => {
      const found = op.allowedAgents.find((a) => a.toLowerCase() === v.trim().toLowerCase());
      if (found === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `expected one of the agents this Forge allows: ${op.allowedAgents.map((a) => `\`${a}\``).join(', ')}`,
        });
        return z.NEVER;
      }
      return found;
    }),
    model: z
      .string({ message: 'expected a model name' })
      .trim()
      .regex(MODEL_NAME, { message: 'expected a model name of up to 100 letters, digits and `. _ : / @ -`' }),
    pullRequests: z.enum(['draft', 'ready'], { message: 'expected `draft` or `ready`' }),
    branchPrefix: z
      .string({ message: 'expected a branch name prefix such as `forge/`' })
      .trim()
      .max(60, { message: 'expected a branch name prefix of at most 60 characters' })
      .refine((v) => v.length > 0 && isValidBranchName(`${v}1`), {
        message:
          'expected a valid git branch name prefix such as `forge/` or `ai-` (no spaces, `..`, `~^:?*[\\`)',
      }),
    allowedUsers: stringList(
      z.string().trim().regex(LOGIN, { message: 'expected user names (letters, digits, `-`, `_` and `.`)' }),
      'a list of logins',
    ).refine((v) => v.length > 0, { message: 'expected a non-empty list of logins' }),
    setup: stringList(text(2000, 'a shell command'), 'a list of shell commands').refine(
      (v) => v.length <= 20,
      {
        message: 'expected at most 20 setup commands',
      },
    ),
    testCommand: text(2000, 'a shell command'),
    instructions: text(20_000, 'text'),
  };
}

const turnTimeout = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === undefined || !(ms > 0)) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like 90s, 15m or 2h' });
    return z.NEVER;
  }
  return ms;
});

/** Parses the settings file (`path` names it in problems). Pure: never throws; drops only bad keys. */
export function parseRepoSettings(
  source: string,
  op: RepoSettingsOperator,
  path: string,
): ParsedRepoSettings {
  const problems: string[] = [];
  const file = `\`${path}\``;
  let doc: unknown;
  try {
    doc = parseYaml(source) ?? {};
  } catch (error) {
    const first = (error as Error).message.split('\n')[0];
    return { settings: {}, problems: [`${file} is not valid YAML (${first}); Forge used its defaults.`] };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return {
      settings: {},
      problems: [
        `${file} must be a YAML mapping of settings (\`key: value\` lines); Forge used its defaults.`,
      ],
    };
  }
  const settings: Record<string, unknown> = {};
  const shapes = schemas(op);
  const known = [...Object.keys(shapes), 'limits'];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'limits') {
      const limits = parseLimits(value, op, problems, file);
      if (limits) settings.limits = limits;
      continue;
    }
    const schema = shapes[key as keyof typeof shapes] as z.ZodType | undefined;
    if (!schema) {
      problems.push(
        `${file}: unknown key \`${key}\` (known keys: ${known.map((k) => `\`${k}\``).join(', ')}).`,
      );
      continue;
    }
    const result = schema.safeParse(value);
    if (result.success) settings[key] = result.data;
    else problems.push(`${file}: \`${key}\`: ${message(result.error)} (got ${shown(value)}).`);
  }
  return { settings: settings as RepoSettings, problems };
}

/** The `limits` keys: how each is read, and the operator bound it must stay within. */
const LIMITS = {
  turnTimeout: { out: 'turnTimeoutMs', env: 'FORGE_TURN_TIMEOUT', kind: 'duration' },
  idleTimeout: { out: 'idleTimeoutMs', env: 'FORGE_IDLE_TIMEOUT', kind: 'duration' },
  maxAgentSteps: { out: 'maxAgentSteps', env: 'FORGE_MAX_AGENT_STEPS', kind: 'count' },
  maxTaskCostUsd: { out: 'maxTaskCostUsd', env: 'FORGE_MAX_TASK_COST_USD', kind: 'usd' },
} as const;
type LimitKey = keyof typeof LIMITS;

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

function parseLimits(
  value: unknown,
  op: RepoSettingsOperator,
  problems: string[],
  file: string,
): RepoSettings['limits'] | undefined {
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
    const schema = limit.kind === 'duration' ? turnTimeout : limit.kind === 'count' ? steps : usd;
    const result = schema.safeParse(v);
    if (!result.success) {
      problems.push(`${file}: \`limits.${key}\`: ${message(result.error)} (got ${shown(v)}).`);
      continue;
    }
    const wanted = result.data;
    if (!(wanted > 0)) {
      problems.push(`${file}: \`limits.${key}\`: expected a value above zero (got ${shown(v)}).`);
      continue;
    }
    const bound = key === 'turnTimeout' ? op.turnTimeout : op[key as Exclude<LimitKey, 'turnTimeout'>];
    // turnTimeout has always been clamped to the operator's limit; the newer limits are refused
    // above their bound, so a repository learns that it asked for more than it gets.
    if (key === 'turnTimeout') {
      out.turnTimeoutMs = Math.min(wanted, op.turnTimeout);
    } else if (bound === undefined) {
      problems.push(
        `${file}: \`limits.${key}\` cannot be set on this Forge (its operator sets no bound for it).`,
      );
    } else if (wanted > bound) {
      problems.push(
        `${file}: \`limits.${key}\`: ${shownLimit(limit.kind, wanted)} is above this Forge's bound of ${shownLimit(limit.kind, bound)} (${limit.env}); these settings may only lower it.`,
      );
    } else {
      out[limit.out] = wanted;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

function shownLimit(kind: 'duration' | 'count' | 'usd', value: number): string {
  if (kind === 'usd') return `$${value}`;
  if (kind === 'count') return `${value} steps`;
  return formatDuration(value);
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

function message(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid value';
}

function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/**
 * Reads and parses the settings file at `ref` — callers always pass the repository's default
 * branch. A missing file is no settings; a failed read throws (so access is never widened by
 * silently ignoring `allowedUsers`).
 */
export async function loadRepoSettings(
  forge: Pick<Forge, 'readFile' | 'words'>,
  ref: string,
  op: RepoSettingsOperator,
): Promise<ParsedRepoSettings> {
  const path = forge.words.settingsPath;
  const source = await forge.readFile(path, ref);
  if (source === undefined) return { settings: {}, problems: [] };
  return parseRepoSettings(source, op, path);
}

/** Whether `login` passes the repository's `allowedUsers` (no list: everyone with write access). */
export function isAllowedUser(settings: RepoSettings, login: string): boolean {
  if (!settings.allowedUsers) return true;
  const wanted = login.toLowerCase();
  return settings.allowedUsers.some((u) => u.toLowerCase() === wanted);
}

/** The comment that names what was wrong with the settings file (posted once per turn). */
export function renderSettingsProblems(problems: readonly string[], ref: string, path: string): string {
  return [
    `⚠️ Forge could not use part of these settings in \`${path}\` (read from \`${ref}\`):`,
    '',
    ...problems.map((p) => `- ${p}`),
    '',
    'The turn runs anyway, with the valid settings and Forge’s defaults in place of the ones above.',
  ].join('\n');
}

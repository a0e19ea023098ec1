/**
 * Per-repository settings: `.github/forge.yml` on GitHub, `.gitlab/forge.yml` on GitLab (the forge's
 * `words.settingsPath`), read from the repository's DEFAULT BRANCH only —
 * never from a change request's head, which the requester controls. Every key is optional; a bad
 * key is dropped (and named in `problems`) while the valid ones still apply — except for the access
 * lists, which fail closed (`accessProblems`, see repo-access.ts). Nothing here can widen what the
 * operator allows: agents must be in `FORGE_ALLOWED_AGENTS`, limits above the operator's bounds are
 * refused (repo-limits.ts), and `allowedUsers` / `allowedTeams` only narrow who may trigger (write
 * access still needed).
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Forge } from '../forge/types.js';
import { isValidBranchName } from '../git/branch-name.js';
import { accessSchemas, likelyAccessKey, mentionsAccessList, type TeamStyle } from './repo-access.js';
import { type LimitBounds, parseLimits, type RepoLimits, shown } from './repo-limits.js';

export type { RepoLimits } from './repo-limits.js';

export const DEFAULT_BRANCH_PREFIX = 'forge/';

export interface RepoSettings {
  triggerLabel?: string;
  agent?: string;
  model?: string;
  pullRequests?: 'draft' | 'ready';
  branchPrefix?: string;
  /** Logins that may ask Forge (with `allowedTeams`: either list lets one in). */
  allowedUsers?: string[];
  /** Teams whose members may ask Forge: GitHub `org/team-slug`, GitLab group paths. */
  allowedTeams?: string[];
  setup?: string[];
  testCommand?: string;
  instructions?: string;
  limits?: RepoLimits;
}

/** The operator settings repository settings are checked against. */
export interface RepoSettingsOperator extends Omit<LimitBounds, 'turnTimeout'> {
  allowedAgents: readonly string[];
  triggerLabel: string;
  /** Labels a repository may pick as its `triggerLabel` besides the operator's own. */
  repoTriggerLabels?: readonly string[];
  /**
   * The operator's turn time limit in ms: the most a repository may ask for. The bounds of the
   * other limits come from `LimitBounds`; a limit whose bound is not given cannot be set.
   */
  turnTimeout: number;
  /** Which host's team names `allowedTeams` holds (absent: either). */
  teams?: TeamStyle;
}

export interface ParsedRepoSettings {
  settings: RepoSettings;
  problems: string[];
  /**
   * Problems with who may ask Forge (also in `problems`). While there are any, Forge refuses every
   * trigger: a broken access list must not let everyone in. Absent when there are none.
   */
  accessProblems?: string[];
}

const MODEL_NAME = /^[A-Za-z0-9._:/@-]{1,100}$/;

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
    ...accessSchemas(op.teams),
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

/** Parses the settings file (`path` names it in problems). Pure: never throws; drops only bad keys. */
export function parseRepoSettings(
  source: string,
  op: RepoSettingsOperator,
  path: string,
): ParsedRepoSettings {
  const problems: string[] = [];
  const access: string[] = [];
  const file = `\`${path}\``;
  /** The whole file is unreadable: defaults, unless it meant to say who may ask. */
  const unreadable = (what: string): ParsedRepoSettings => {
    if (!mentionsAccessList(source)) return { settings: {}, problems: [`${what}; Forge used its defaults.`] };
    const problem = `${what}, and it mentions \`allowedUsers\` or \`allowedTeams\`: Forge cannot tell who may ask it.`;
    return { settings: {}, problems: [problem], accessProblems: [problem] };
  };
  let doc: unknown;
  try {
    doc = parseYaml(source) ?? {};
  } catch (error) {
    return unreadable(`${file} is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return unreadable(`${file} must be a YAML mapping of settings (\`key: value\` lines)`);
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
      const meant = likelyAccessKey(key);
      const problem = meant
        ? `${file}: unknown key \`${key}\` — did you mean \`${meant}\`?`
        : `${file}: unknown key \`${key}\` (known keys: ${known.map((k) => `\`${k}\``).join(', ')}).`;
      problems.push(problem);
      if (meant) access.push(problem);
      continue;
    }
    const result = schema.safeParse(value);
    if (result.success) {
      settings[key] = result.data;
      continue;
    }
    const problem = `${file}: \`${key}\`: ${message(result.error)} (got ${shown(value)}).`;
    problems.push(problem);
    if (key === 'allowedUsers' || key === 'allowedTeams') access.push(problem);
  }
  return {
    settings: settings as RepoSettings,
    problems,
    ...(access.length ? { accessProblems: access } : {}),
  };
}

function message(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid value';
}

/**
 * Reads and parses the settings file at `ref` — callers always pass the repository's default
 * branch. A missing file is no settings; a failed read throws (so access is never widened by
 * silently ignoring `allowedUsers`).
 */
export async function loadRepoSettings(
  forge: Pick<Forge, 'readFile' | 'words'> & Partial<Pick<Forge, 'kind'>>,
  ref: string,
  op: RepoSettingsOperator,
): Promise<ParsedRepoSettings> {
  const path = forge.words.settingsPath;
  const source = await forge.readFile(path, ref);
  if (source === undefined) return { settings: {}, problems: [] };
  return parseRepoSettings(source, { ...(forge.kind ? { teams: forge.kind } : {}), ...op }, path);
}

/** Whether `login` is on the repository's `allowedUsers` (no list: everyone with write access). */
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

/**
 * The Codex runner: `codex exec --json`, the prompt on stdin (`-`).
 *
 * - CODEX_HOME is `<home>/.codex` in the per-task home, where Codex keeps its sessions. Every turn
 *   rewrites `config.toml` there: one model provider, `forge`, whose base URL is the turn's gateway
 *   URL and whose key Codex reads from FORGE_MODEL_TOKEN (the turn's token), which the shell
 *   environment policy keeps out of the commands Codex runs (0.169 passes it on otherwise). Update
 *   checks, analytics, feedback, prompt history and plugin sync (background requests to github.com
 *   and chatgpt.com) are off. The file holds no secret.
 * - Unattended: `--dangerously-bypass-approvals-and-sandbox` (the container is the boundary; Codex's
 *   own sandbox cannot nest in it) and `--skip-git-repo-check`.
 * - A later turn runs `codex exec … resume <id> -`; a session the home no longer has starts anew.
 *   Codex reports a resumed session's usage as the session's running total, so the runner keeps
 *   each session's last total in `<home>/.forge/codex-usage.json` and reports the difference. (The
 *   agent could edit that file; the gateway's own measurement is what budgets use.)
 * - Repository instructions (AGENTS.md) are read by Codex itself from the checkout.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  cliFailure,
  cliResult,
  concludeCli,
  execCli,
  explainModelStatus,
  proxyEnv,
  SESSION_ID,
  writeHomeFile,
} from './cli-run.js';
import { type CodexOutcome, CodexStreamParser } from './codex-stream.js';
import { isObject, num } from './stream-util.js';
import type {
  AgentResult,
  AgentRunContext,
  AgentRunInput,
  AgentRunner,
  ModelAccess,
  Usage,
} from './types.js';

/** Codex 0.169's own default and first-listed model. */
export const DEFAULT_CODEX_MODEL = 'gpt-6.1-sol';
/** The variable Codex reads the gateway token from (`env_key` of the `forge` provider). */
export const CODEX_TOKEN_ENV = 'FORGE_MODEL_TOKEN';
/** CODEX_HOME relative to the session's home. */
export const CODEX_HOME_DIR = '.codex';
/** Each session's usage total at the end of its last run, relative to the session's home. */
export const CODEX_USAGE_FILE = '.forge/codex-usage.json';

export interface CodexAgentOptions {
  /** Model when the turn names none. */
  model?: string;
  /** More `codex exec` arguments, after Forge's own (e.g. `['-c', 'model_reasoning_effort="high"']`). */
  extraArgs?: readonly string[];
  /** More environment; the model access variables always win. */
  env?: Readonly<Record<string, string>>;
  /** The executable, looked up on the sandbox's PATH unless absolute. */
  executable?: string;
}

const SUBJECT = 'Codex';

export class CodexAgent implements AgentRunner {
  readonly name = 'codex';
  readonly #model: string;
  readonly #extraArgs: readonly string[];
  readonly #env: Readonly<Record<string, string>>;
  readonly #executable: string;

  constructor(options: CodexAgentOptions = {}) {
    this.#model = options.model?.trim() || DEFAULT_CODEX_MODEL;
    this.#extraArgs = options.extraArgs ?? [];
    this.#env = options.env ?? {};
    this.#executable = options.executable ?? 'codex';
  }

  async run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    if (!ctx.model) {
      return {
        conclusion: 'failure',
        error: `${SUBJECT} needs model access, but the turn has no model gateway grant.`,
      };
    }
    await writeHomeFile(ctx.session, posix.join(CODEX_HOME_DIR, 'config.toml'), codexConfig(ctx.model));
    const model = input.model?.trim() || this.#model;
    const resume = input.sessionId && SESSION_ID.test(input.sessionId) ? input.sessionId : undefined;
    const totals = await readUsageTotals(ctx.session.hostHomeDir);
    let attempt = await this.#attempt(
      model,
      resume,
      resume ? totals[resume] : undefined,
      input.prompt,
      ctx.model,
      ctx,
    );
    if (resume && attempt.exec.end === 'exited' && isMissingSession(attempt)) {
      ctx.onLine(
        'stderr',
        `forge: Codex has no session ${resume} in this task's home; starting a new session.`,
      );
      attempt = await this.#attempt(model, undefined, undefined, input.prompt, ctx.model, ctx);
    }
    const { outcome, exec, stderr } = attempt;
    await saveUsageTotal(ctx.session, totals, outcome);
    const cliError = outcome.error
      ? cliFailure(SUBJECT, outcome.error, explainModelStatus(outcome.apiErrorStatus, 'OPENAI_API_KEY'))
      : undefined;
    return cliResult(outcome, concludeCli(exec, ctx, SUBJECT, cliError, stderr), exec);
  }

  async #attempt(
    model: string,
    resume: string | undefined,
    usageBefore: Usage | undefined,
    prompt: string,
    access: ModelAccess,
    ctx: AgentRunContext,
  ) {
    const parser = new CodexStreamParser({
      cwd: ctx.session.workdir,
      ...(usageBefore ? { usageBefore } : {}),
    });
    const { exec, stderr } = await execCli(
      {
        argv: codexArgv({ executable: this.#executable, model, resume, extraArgs: this.#extraArgs }),
        env: codexEnv(access, posix.join(ctx.session.homeDir, CODEX_HOME_DIR), this.#env),
        stdin: prompt,
        parser,
      },
      ctx,
    );
    return { exec, stderr, outcome: parser.outcome() };
  }
}

type UsageTotals = Record<string, Usage>;

async function readUsageTotals(hostHomeDir: string): Promise<UsageTotals> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(hostHomeDir, CODEX_USAGE_FILE), 'utf8'));
  } catch {
    return {};
  }
  const totals: UsageTotals = {};
  if (!isObject(parsed)) return totals;
  for (const [id, value] of Object.entries(parsed)) {
    if (isObject(value))
      totals[id] = { inputTokens: num(value.inputTokens), outputTokens: num(value.outputTokens) };
  }
  return totals;
}

async function saveUsageTotal(
  session: AgentRunContext['session'],
  totals: UsageTotals,
  outcome: CodexOutcome,
) {
  if (!outcome.sessionId || !outcome.sessionUsage) return;
  const next = { ...totals, [outcome.sessionId]: outcome.sessionUsage };
  await writeHomeFile(session, CODEX_USAGE_FILE, `${JSON.stringify(next, null, 2)}\n`);
}

/** `resume` of an id Codex does not have fails before any event: "no rollout found for thread id …". */
function isMissingSession(attempt: {
  exec: { exitCode: number | null };
  stderr: string[];
  outcome: { sessionId?: string };
}) {
  return (
    attempt.exec.exitCode !== 0 &&
    !attempt.outcome.sessionId &&
    attempt.stderr.some((line) => /no rollout found|thread\/resume failed/i.test(line))
  );
}

export function codexArgv(options: {
  executable: string;
  model: string;
  resume?: string | undefined;
  extraArgs?: readonly string[];
}): string[] {
  return [
    options.executable,
    'exec',
    '--json',
    '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox',
    // `--flag=value`: a value from a comment can never be taken for another flag.
    `--model=${options.model}`,
    ...(options.extraArgs ?? []),
    ...(options.resume ? ['resume', options.resume] : []),
    '-',
  ];
}

export function codexEnv(
  model: ModelAccess,
  codexHome: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return { ...extra, ...proxyEnv(model), CODEX_HOME: codexHome, [CODEX_TOKEN_ENV]: model.token };
}

/** `config.toml` for one turn. TOML basic strings accept JSON string escapes. */
export function codexConfig(model: ModelAccess): string {
  return [
    "# Written by Forge for each turn: Codex reaches its model only through Forge's gateway.",
    'model_provider = "forge"',
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    '[history]',
    'persistence = "none"',
    '',
    // Plugin sync reaches github.com and chatgpt.com in the background: noise at the egress proxy.
    '[features]',
    'plugins = false',
    'remote_plugin = false',
    '',
    // The commands Codex runs do not need the token (the agent could still read it from /proc).
    '[shell_environment_policy]',
    `exclude = [${JSON.stringify(CODEX_TOKEN_ENV)}]`,
    '',
    '[model_providers.forge]',
    'name = "Forge model gateway"',
    `base_url = ${JSON.stringify(model.openaiBaseUrl)}`,
    `env_key = ${JSON.stringify(CODEX_TOKEN_ENV)}`,
    'wire_api = "responses"',
    '',
  ].join('\n');
}

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
 *   agent could edit that file; the gateway's own measurement is what budgets use. A link or FIFO
 *   planted there is never followed: the totals are then ignored, and the log says so.)
 * - Repository instructions (AGENTS.md) are read by Codex itself from the checkout.
 */
import { posix } from 'node:path';
import { readHomeFile, writeHomeFile } from './cli-home.js';
import {
  CliAgent,
  type CliAgentOptions,
  type CliInfo,
  type CliRun,
  type CliTurn,
  finishCliRun,
  proxyEnv,
  resumeOrStartOver,
  runCli,
} from './cli-run.js';
import { type CodexOutcome, CodexStreamParser } from './codex-stream.js';
import { bestEffort } from './file-notes.js';
import { count, isRecord } from './stream-lines.js';
import type { AgentResult, AgentRunContext, AgentRunInput, ModelAccess, Usage } from './types.js';

/** Codex 0.169's own default and first-listed model. */
export const DEFAULT_CODEX_MODEL = 'gpt-6.1-sol';
/** The variable Codex reads the gateway token from (`env_key` of the `forge` provider). */
export const CODEX_TOKEN_ENV = 'FORGE_MODEL_TOKEN';
/** CODEX_HOME relative to the session's home. */
export const CODEX_HOME_DIR = '.codex';
/** Each session's usage total at the end of its last run, relative to the session's home. */
export const CODEX_USAGE_FILE = '.forge/codex-usage.json';

/** `extraArgs` go to `codex exec` after Forge's own (e.g. `['-c', 'model_reasoning_effort="high"']`). */
export type CodexAgentOptions = CliAgentOptions;

const CLI: CliInfo = { subject: 'Codex', keySetting: 'OPENAI_API_KEY' };

export class CodexAgent extends CliAgent {
  readonly name = 'codex';

  constructor(options: CodexAgentOptions = {}) {
    super(CLI, options, { model: DEFAULT_CODEX_MODEL, executable: 'codex' });
  }

  protected async runTurn(turn: CliTurn, _input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    await writeHomeFile(ctx.session, posix.join(CODEX_HOME_DIR, 'config.toml'), codexConfig(turn.access));
    const totals = await bestEffort(ctx, 'did not read the Codex usage totals', {}, () =>
      readUsageTotals(ctx.session),
    );
    const { run, outcome } = await resumeOrStartOver(
      ctx,
      CLI,
      turn,
      (resume, prompt) => this.#attempt(turn, resume, resume ? totals[resume] : undefined, prompt, ctx),
      isMissingSession,
    );
    await bestEffort(ctx, 'did not save the Codex usage totals', undefined, () =>
      saveUsageTotal(ctx.session, totals, outcome),
    );
    return finishCliRun(CLI, run, ctx, outcome);
  }

  async #attempt(
    turn: CliTurn,
    resume: string | undefined,
    usageBefore: Usage | undefined,
    prompt: string,
    ctx: AgentRunContext,
  ) {
    const parser = new CodexStreamParser({
      cwd: ctx.session.workdir,
      ...(usageBefore ? { usageBefore } : {}),
    });
    const run: CliRun = await runCli(ctx, {
      argv: codexArgv({ executable: this.executable, model: turn.model, resume, extraArgs: this.extraArgs }),
      env: codexEnv(turn.access, posix.join(ctx.session.homeDir, CODEX_HOME_DIR), this.env),
      stdin: prompt,
      parser,
    });
    return { run, outcome: parser.outcome() };
  }
}

type UsageTotals = Record<string, Usage>;

async function readUsageTotals(session: AgentRunContext['session']): Promise<UsageTotals> {
  const text = await readHomeFile(session, CODEX_USAGE_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
  const totals: UsageTotals = {};
  if (!isRecord(parsed)) return totals;
  for (const [id, value] of Object.entries(parsed)) {
    if (isRecord(value))
      totals[id] = { inputTokens: count(value.inputTokens), outputTokens: count(value.outputTokens) };
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
function isMissingSession(attempt: { run: CliRun; outcome: { sessionId?: string } }) {
  return (
    attempt.run.exec.exitCode !== 0 &&
    !attempt.outcome.sessionId &&
    attempt.run.stderr.some((line) => /no rollout found|thread\/resume failed/i.test(line))
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

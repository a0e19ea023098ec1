/**
 * The Claude Code runner: `claude -p --output-format stream-json --verbose`, the prompt on stdin.
 *
 * - Model access: ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY from the turn's gateway grant (the token,
 *   never a provider key); egress proxy variables when the turn has a proxy.
 * - Unattended: `--dangerously-skip-permissions` (the container is the boundary). IS_SANDBOX=1
 *   lets that flag run as root, which only happens with the local sandbox.
 * - Quiet: telemetry, error reporting, auto-update and other non-essential traffic off.
 * - Sessions live in the per-task home (`~/.claude/projects/…`); a later turn passes
 *   `--resume=<id>` and keeps the session id. A session the home no longer has (a wiped home) is
 *   not an error for the user: the turn starts a new session.
 * - Repository instructions (CLAUDE.md) are read by Claude Code itself from the checkout.
 */

import { ClaudeCodeStreamParser } from './claude-code-stream.js';
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
import type { AgentResult, AgentRunContext, AgentRunInput, ModelAccess } from './types.js';

/** Claude Code's alias for the current Sonnet model (2.1.330 resolves it to claude-sonnet-5-5). */
export const DEFAULT_CLAUDE_CODE_MODEL = 'sonnet';

/**
 * `model`: an alias (`sonnet`, `opus`, `haiku`) or a full model id; `extraArgs` e.g.
 * `['--effort', 'high']`; `env` e.g. `CLAUDE_CODE_MAX_RETRIES`.
 */
export type ClaudeCodeAgentOptions = CliAgentOptions;

const CLI: CliInfo = { subject: 'Claude Code', keySetting: 'ANTHROPIC_API_KEY' };

export class ClaudeCodeAgent extends CliAgent {
  readonly name = 'claude-code';

  constructor(options: ClaudeCodeAgentOptions = {}) {
    super(CLI, options, { model: DEFAULT_CLAUDE_CODE_MODEL, executable: 'claude' });
  }

  protected async runTurn(turn: CliTurn, _input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const { run, outcome } = await resumeOrStartOver(
      ctx,
      CLI,
      turn,
      (resume, prompt) => this.#attempt(turn, resume, prompt, ctx),
      (attempt) => attempt.outcome.sessionNotFound,
    );
    return finishCliRun(CLI, run, ctx, outcome);
  }

  async #attempt(turn: CliTurn, resume: string | undefined, prompt: string, ctx: AgentRunContext) {
    const parser = new ClaudeCodeStreamParser();
    const run: CliRun = await runCli(ctx, {
      argv: claudeCodeArgv({
        executable: this.executable,
        model: turn.model,
        resume,
        extraArgs: this.extraArgs,
      }),
      env: claudeCodeEnv(turn.access, this.env),
      stdin: prompt,
      parser,
    });
    return { run, outcome: parser.outcome() };
  }
}

export function claudeCodeArgv(options: {
  executable: string;
  model: string;
  resume?: string | undefined;
  extraArgs?: readonly string[];
}): string[] {
  return [
    options.executable,
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    // `--flag=value`: a value from a comment can never be taken for another flag.
    `--model=${options.model}`,
    '--dangerously-skip-permissions',
    ...(options.resume ? [`--resume=${options.resume}`] : []),
    ...(options.extraArgs ?? []),
  ];
}

export function claudeCodeEnv(
  model: ModelAccess,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...extra,
    ...proxyEnv(model),
    ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
    ANTHROPIC_API_KEY: model.token,
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    IS_SANDBOX: '1',
  };
}

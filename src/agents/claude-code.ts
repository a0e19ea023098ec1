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
  cliFailure,
  cliResult,
  concludeCli,
  execCli,
  explainModelStatus,
  proxyEnv,
  SESSION_ID,
} from './cli-run.js';
import type { AgentResult, AgentRunContext, AgentRunInput, AgentRunner, ModelAccess } from './types.js';

/** Claude Code's alias for the current Sonnet model (2.1.330 resolves it to claude-sonnet-5-5). */
export const DEFAULT_CLAUDE_CODE_MODEL = 'sonnet';

export interface ClaudeCodeAgentOptions {
  /** Model when the turn names none: an alias (`sonnet`, `opus`, `haiku`) or a full model id. */
  model?: string;
  /** More CLI arguments, after Forge's own (e.g. `['--effort', 'high']`). */
  extraArgs?: readonly string[];
  /** More environment (e.g. `CLAUDE_CODE_MAX_RETRIES`); the model access variables always win. */
  env?: Readonly<Record<string, string>>;
  /** The executable, looked up on the sandbox's PATH unless absolute. */
  executable?: string;
}

const SUBJECT = 'Claude Code';

export class ClaudeCodeAgent implements AgentRunner {
  readonly name = 'claude-code';
  readonly #model: string;
  readonly #extraArgs: readonly string[];
  readonly #env: Readonly<Record<string, string>>;
  readonly #executable: string;

  constructor(options: ClaudeCodeAgentOptions = {}) {
    this.#model = options.model?.trim() || DEFAULT_CLAUDE_CODE_MODEL;
    this.#extraArgs = options.extraArgs ?? [];
    this.#env = options.env ?? {};
    this.#executable = options.executable ?? 'claude';
  }

  async run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    if (!ctx.model) {
      return {
        conclusion: 'failure',
        error: `${SUBJECT} needs model access, but the turn has no model gateway grant.`,
      };
    }
    const model = input.model?.trim() || this.#model;
    const resume = input.sessionId && SESSION_ID.test(input.sessionId) ? input.sessionId : undefined;
    let attempt = await this.#attempt(model, resume, input.prompt, ctx.model, ctx);
    if (resume && attempt.outcome.sessionNotFound && attempt.exec.end === 'exited') {
      ctx.onLine(
        'stderr',
        `forge: Claude Code has no session ${resume} in this task's home; starting a new session.`,
      );
      attempt = await this.#attempt(model, undefined, input.prompt, ctx.model, ctx);
    }
    const { outcome, exec, stderr } = attempt;
    const cliError = outcome.error
      ? cliFailure(SUBJECT, outcome.error, explainModelStatus(outcome.apiErrorStatus, 'ANTHROPIC_API_KEY'))
      : undefined;
    return cliResult(outcome, concludeCli(exec, ctx, SUBJECT, cliError, stderr), exec);
  }

  async #attempt(
    model: string,
    resume: string | undefined,
    prompt: string,
    access: ModelAccess,
    ctx: AgentRunContext,
  ) {
    const parser = new ClaudeCodeStreamParser();
    const { exec, stderr } = await execCli(
      {
        argv: claudeCodeArgv({ executable: this.#executable, model, resume, extraArgs: this.#extraArgs }),
        env: claudeCodeEnv(access, this.#env),
        stdin: prompt,
        parser,
      },
      ctx,
    );
    return { exec, stderr, outcome: parser.outcome() };
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

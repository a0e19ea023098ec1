/**
 * What the runners of the agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode) share: the checks
 * before a turn starts (model access, a model name and session id that are safe on argv, the
 * prompt), running the CLI with the prompt on stdin while its stdout goes through the CLI's stream
 * parser, the proxy environment, starting over when a session is lost, and how a run ended in
 * words the user can act on. Files in the per-task home are in cli-home.ts.
 */
import { proxyEnvironment } from '../gateway/env.js';
import { RefusedPathError } from '../sandbox/safe-fs.js';
import type { ExecResult } from '../sandbox/types.js';
import { appendStderr, describeExecEnd, STDERR_TAIL_LINES, Tail } from './command.js';
import { refusedConfiguration } from './file-notes.js';
import { type StreamParser, statusIn } from './stream-lines.js';
import type {
  AgentConclusion,
  AgentResult,
  AgentRunContext,
  AgentRunInput,
  AgentRunner,
  ModelAccess,
  Usage,
} from './types.js';

/** Options every CLI runner takes. */
export interface CliAgentOptions {
  /** Model when the turn names none. */
  model?: string;
  /** More CLI arguments, after Forge's own. */
  extraArgs?: readonly string[];
  /** More environment; the model access variables always win. */
  env?: Readonly<Record<string, string>>;
  /** The executable, looked up on the sandbox's PATH unless absolute. */
  executable?: string;
}

/** How a runner names its CLI to the user. */
export interface CliInfo {
  /** "Claude Code", "Gemini CLI" … */
  subject: string;
  /** The operator setting with the provider key the gateway uses (named in hints). */
  keySetting: string;
  /** The most prompt bytes the CLI reads from stdin, when it has a limit. */
  maxPromptBytes?: number;
}

/**
 * Line cap for a CLI's output (the sandboxes' default is 64 KiB): stream-json events carry whole
 * file contents and answers, and a line cut short loses what comes after the cut. The event log
 * clips lines itself.
 */
export const CLI_MAX_LINE_BYTES = 4 * 1024 * 1024;

/** Model names reach argv: no leading dash, no spaces (`sonnet[1m]`, `org/model:tag` are fine). */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+[\]-]{0,199}$/;

/** Session ids come back from a CLI's output, are kept on the task and travel on argv. */
export const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** The model a runner uses when the turn names none; throws for a name that is unsafe on argv. */
export function defaultModel(cli: CliInfo, configured: string | undefined, fallback: string): string {
  const model = configured?.trim() || fallback;
  if (!MODEL_NAME.test(model)) throw new TypeError(`invalid default ${cli.subject} model: ${model}`);
  return model;
}

/**
 * A runner of one agent CLI: the operator's options, and the checks before a turn (startCliTurn).
 * Each CLI's runner says how its turn runs.
 */
export abstract class CliAgent implements AgentRunner {
  abstract readonly name: string;
  protected readonly model: string;
  protected readonly extraArgs: readonly string[];
  protected readonly env: Readonly<Record<string, string>>;
  protected readonly executable: string;

  constructor(
    protected readonly cli: CliInfo,
    options: CliAgentOptions,
    defaults: { model: string; executable: string },
  ) {
    this.model = defaultModel(cli, options.model, defaults.model);
    this.extraArgs = options.extraArgs ?? [];
    this.env = options.env ?? {};
    this.executable = options.executable ?? defaults.executable;
  }

  async run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const turn = startCliTurn(this.cli, input, ctx, this.model);
    if ('refused' in turn) return { conclusion: 'failure', error: turn.refused };
    try {
      return await this.runTurn(turn, input, ctx);
    } catch (error) {
      if (!(error instanceof RefusedPathError)) throw error;
      return { conclusion: 'failure', error: refusedConfiguration(this.cli.subject, error) };
    }
  }

  protected abstract runTurn(turn: CliTurn, input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult>;
}

export interface CliTurn {
  model: string;
  access: ModelAccess;
  /** The session to resume, when there is one whose id can go on argv. */
  resume?: string;
}

/**
 * Checks a turn before anything runs. A stored session id that cannot go on argv is dropped with a
 * note, like a lost session: the turn starts a new one.
 */
export function startCliTurn(
  cli: CliInfo,
  input: AgentRunInput,
  ctx: AgentRunContext,
  fallbackModel: string,
): CliTurn | { refused: string } {
  if (!ctx.model) {
    return {
      refused: `${cli.subject} needs model access, but the turn has no model gateway grant: the model gateway is not configured on this Forge.`,
    };
  }
  const model = input.model?.trim() || fallbackModel;
  if (!MODEL_NAME.test(model))
    return { refused: `\`${model.slice(0, 80).replace(/`/g, "'")}\` is not a valid model name.` };
  if (!input.prompt.trim()) return { refused: `${cli.subject} needs a non-empty prompt.` };
  if (cli.maxPromptBytes !== undefined && Buffer.byteLength(input.prompt, 'utf8') > cli.maxPromptBytes) {
    return {
      refused: `The prompt is larger than the ${cli.maxPromptBytes / 1024 / 1024} MiB ${cli.subject} reads; shorten the request.`,
    };
  }
  const stored = input.sessionId;
  if (stored !== undefined && !SESSION_ID.test(stored)) {
    startFreshSession(ctx, cli, stored.slice(0, 40), 'has an id Forge cannot pass on');
    return { model, access: ctx.model };
  }
  return { model, access: ctx.model, ...(stored ? { resume: stored } : {}) };
}

/** Tells the user (progress) and the event log that the turn does not continue the previous session. */
export function startFreshSession(ctx: AgentRunContext, cli: CliInfo, sessionId: string, why: string): void {
  const note = `The previous ${cli.subject} session (${sessionId}) ${why}; starting a new one.`;
  ctx.onLine('stderr', `forge: ${note}`);
  ctx.onEvent({ type: 'message', text: note });
}

/**
 * Runs a CLI that resumes a session by id (Claude Code, Codex): when the CLI exits saying it has no
 * such session (`lost`), the turn says so and runs again with a new session.
 */
export async function resumeOrStartOver<Attempt extends { run: CliRun }>(
  ctx: AgentRunContext,
  cli: CliInfo,
  resume: string | undefined,
  attempt: (resume: string | undefined) => Promise<Attempt>,
  lost: (attempt: Attempt) => boolean,
): Promise<Attempt> {
  const first = await attempt(resume);
  if (!resume || first.run.exec.end !== 'exited' || !lost(first)) return first;
  startFreshSession(ctx, cli, resume, "is no longer in the task's home");
  return attempt(undefined);
}

/** Proxy variables for the egress allowlist (shared with setup commands and the command agent). */
export function proxyEnv(model: ModelAccess | undefined): Record<string, string> {
  return model ? proxyEnvironment(model) : {};
}

export interface CliRun {
  exec: ExecResult;
  /** The last non-empty stderr lines, for failure reasons. */
  stderr: string[];
}

const STDERR_KEPT_CHARS = 2_000;

/** Runs argv in the sandbox with `stdin` (no size limit, unlike argv and env) and parses stdout. */
export async function runCli(
  ctx: AgentRunContext,
  spec: { argv: string[]; env: Record<string, string>; stdin: string; parser: StreamParser<unknown> },
): Promise<CliRun> {
  const stderr = new Tail(STDERR_TAIL_LINES);
  const exec = await ctx.session.exec(spec.argv, {
    env: spec.env,
    stdin: spec.stdin,
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs,
    ...(ctx.idleTimeoutMs !== undefined ? { idleTimeoutMs: ctx.idleTimeoutMs } : {}),
    maxLineBytes: CLI_MAX_LINE_BYTES,
    onLine: (stream, line) => {
      ctx.onLine(stream, line);
      if (stream === 'stderr') stderr.push(line.slice(0, STDERR_KEPT_CHARS));
      else for (const event of spec.parser.push(line)) ctx.onEvent(event);
    },
  });
  for (const event of spec.parser.end()) ctx.onEvent(event);
  return { exec, stderr: stderr.lines };
}

/** What every CLI's stream tells about a run. */
export interface CliOutcome {
  sessionId?: string;
  summary?: string;
  usage?: Usage;
  /** The error the CLI reported, in its own words. */
  error?: string;
  /** HTTP status of the model API error, when the CLI named one. */
  apiErrorStatus?: number;
}

/**
 * The turn's AgentResult. `fallbackError` explains a failure the stream did not (e.g. a documented
 * exit code).
 */
export function finishCliRun(
  cli: CliInfo,
  run: CliRun,
  ctx: Pick<AgentRunContext, 'timeoutMs' | 'idleTimeoutMs'>,
  outcome: CliOutcome,
  fallbackError?: string,
): AgentResult {
  const status = outcome.apiErrorStatus ?? (outcome.error ? statusIn(outcome.error) : undefined);
  const cliError = outcome.error
    ? cliFailure(cli.subject, outcome.error, modelStatusHint(status, cli.keySetting))
    : fallbackError;
  const end = concludeCli(run, ctx, cli.subject, cliError);
  return {
    conclusion: end.conclusion,
    ...(outcome.summary ? { summary: outcome.summary } : {}),
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
    ...(outcome.usage ? { usage: outcome.usage } : {}),
    ...(end.error ? { error: end.error } : {}),
    exitCode: run.exec.exitCode,
    end: run.exec.end,
  };
}

/**
 * How a CLI run ended: the sandbox's verdict (cancelled, timed out, out of memory) first, then the
 * error the CLI itself reported, then a bare non-zero exit with the last stderr lines.
 */
export function concludeCli(
  run: CliRun,
  ctx: Pick<AgentRunContext, 'timeoutMs' | 'idleTimeoutMs'>,
  subject: string,
  cliError: string | undefined,
): { conclusion: AgentConclusion; error?: string } {
  const outcome = describeExecEnd(run.exec, ctx, subject);
  if (run.exec.end !== 'exited') return outcome;
  if (cliError) return { conclusion: 'failure', error: cliError };
  if (outcome.conclusion === 'success') return outcome;
  const error = appendStderr(outcome.error, run.stderr);
  return { conclusion: 'failure', ...(error ? { error } : {}) };
}

/** "<subject> failed: <reason>" (one paragraph, clipped at 500 characters) plus an optional hint. */
export function cliFailure(subject: string, reason: string, hint?: string): string {
  const text = reason.replace(/\s+/g, ' ').trim();
  const clipped = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  return hint ? `${subject} failed: ${clipped}\n\n${hint}` : `${subject} failed: ${clipped}`;
}

/** What to do about a model API status, as seen through Forge's gateway. */
export function modelStatusHint(status: number | undefined, keySetting: string): string | undefined {
  if (status === undefined) return undefined;
  if (status === 401 || status === 403) {
    return `The model API refused the credentials (HTTP ${status}): check ${keySetting}, the key Forge's model gateway uses for this provider.`;
  }
  if (status === 402 || status === 429) {
    return `The model API refused the request (HTTP ${status}): a rate limit, the provider account's quota, or this task's budget was reached.`;
  }
  if (status === 404)
    return "The model API answered 404: check the model name (`--model`) and the gateway's upstream base URL.";
  if (status === 400)
    return 'The model API rejected the request (HTTP 400): the model may not exist or not support this CLI.';
  if (status >= 500)
    return `The model API failed (HTTP ${status}); this is usually temporary, try again later.`;
  return undefined;
}

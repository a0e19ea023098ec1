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
  AgentEvent,
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
  /** The prompt for resuming `resume`. */
  prompt: string;
  /** The prompt for a new session: a runner that starts over sends this one (`promptFor`). */
  freshPrompt: string;
}

/** The prompt for a run that resumes `resume`, or for a new session when it is undefined. */
export function promptFor(turn: Pick<CliTurn, 'prompt' | 'freshPrompt'>, resume: string | undefined): string {
  return resume ? turn.prompt : turn.freshPrompt;
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
  const freshPrompt = input.freshPrompt ?? input.prompt;
  for (const prompt of [input.prompt, freshPrompt]) {
    if (!prompt.trim()) return { refused: `${cli.subject} needs a non-empty prompt.` };
    if (cli.maxPromptBytes !== undefined && Buffer.byteLength(prompt, 'utf8') > cli.maxPromptBytes) {
      return {
        refused: `The prompt is larger than the ${cli.maxPromptBytes / 1024 / 1024} MiB ${cli.subject} reads; shorten the request.`,
      };
    }
  }
  const stored = input.sessionId;
  const resume = stored !== undefined && SESSION_ID.test(stored) ? stored : undefined;
  if (stored !== undefined && !resume)
    startFreshSession(ctx, cli, stored.slice(0, 40), 'has an id Forge cannot pass on');
  const prompt = resume ? input.prompt : freshPrompt;
  return { model, access: ctx.model, ...(resume ? { resume } : {}), prompt, freshPrompt };
}

/** Tells the user (progress) and the event log that the turn does not continue the previous session. */
export function startFreshSession(ctx: AgentRunContext, cli: CliInfo, sessionId: string, why: string): void {
  const note = `The previous ${cli.subject} session (${sessionId}) ${why}; starting a new one.`;
  ctx.onLine('stderr', `forge: ${note}`);
  ctx.onEvent({ type: 'message', text: note });
}

/**
 * Runs a CLI that resumes a session by id (Claude Code, Codex): when the CLI exits saying it has no
 * such session (`lost`), the turn says so and runs again with a new session and the prompt for one
 * (the resumed prompt leaves out what the lost session held).
 */
export async function resumeOrStartOver<Attempt extends { run: CliRun }>(
  ctx: AgentRunContext,
  cli: CliInfo,
  turn: Pick<CliTurn, 'resume' | 'prompt' | 'freshPrompt'>,
  attempt: (resume: string | undefined, prompt: string) => Promise<Attempt>,
  lost: (attempt: Attempt) => boolean,
): Promise<Attempt> {
  const { resume } = turn;
  const first = await attempt(resume, promptFor(turn, resume));
  if (!resume || first.run.exec.end !== 'exited' || !lost(first)) return first;
  startFreshSession(ctx, cli, resume, "is no longer in the task's home");
  return attempt(undefined, promptFor(turn, undefined));
}

/** Proxy variables for the egress allowlist (shared with setup commands and the command agent). */
export function proxyEnv(model: ModelAccess | undefined): Record<string, string> {
  return model ? proxyEnvironment(model) : {};
}

export interface CliRun {
  exec: ExecResult;
  /** The last non-empty stderr lines, for failure reasons. */
  stderr: string[];
  /** The agent's last message, standing in for the summary of a run stopped before it summed up. */
  lastMessage?: string;
}

const STDERR_KEPT_CHARS = 2_000;

/** Runs argv in the sandbox with `stdin` (no size limit, unlike argv and env) and parses stdout. */
export async function runCli(
  ctx: AgentRunContext,
  spec: { argv: string[]; env: Record<string, string>; stdin: string; parser: StreamParser<unknown> },
): Promise<CliRun> {
  const stderr = new Tail(STDERR_TAIL_LINES);
  let lastMessage: string | undefined;
  const emit = (event: AgentEvent) => {
    if (event.type === 'message') lastMessage = event.text;
    ctx.onEvent(event);
  };
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
      else for (const event of spec.parser.push(line)) emit(event);
    },
  });
  for (const event of spec.parser.end()) emit(event);
  return { exec, stderr: stderr.lines, ...(lastMessage ? { lastMessage } : {}) };
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
  // A run stopped from outside (stop, a cap, a time limit) never got to its summary: its last
  // message tells what it was doing.
  const summary = outcome.summary ?? (run.exec.end !== 'exited' ? run.lastMessage : undefined);
  return {
    conclusion: end.conclusion,
    ...(summary ? { summary } : {}),
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

/**
 * The generic runner behind FORGE_AGENT_COMMAND: any shell command becomes an agent.
 *
 * Contract for the command (documented for operators):
 * - FORGE_PROMPT_FILE  path of a file holding the full prompt (always set)
 * - FORGE_PROMPT       the prompt itself, only when it is under 64 KiB (env overflows beyond that)
 * - FORGE_TASK_ID      the task id
 * - FORGE_MODEL        the requested model, when one was given
 * - FORGE_SUMMARY_FILE where the command may write a summary (PR body), a regular file (a link
 *                      is not followed); otherwise the last non-empty stdout lines are used
 * - ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY, OPENAI_BASE_URL/OPENAI_API_KEY,
 *   GOOGLE_GEMINI_BASE_URL/GEMINI_API_KEY  the model gateway with the turn's token, and the
 *                      egress proxy variables — when the worker runs a gateway
 * Exit code 0 means success. It runs in the checkout; Forge commits whatever it changed.
 */
import { modelEnvironment } from '../gateway/env.js';
import { RefusedPathError } from '../sandbox/safe-fs.js';
import type { ExecResult } from '../sandbox/types.js';
import { bestEffort, refusalText } from './file-notes.js';
import { readScratchFile, removeScratchFile, scratchFile, writePromptFile } from './prompt-file.js';
import type { AgentConclusion, AgentResult, AgentRunContext, AgentRunInput, AgentRunner } from './types.js';

export interface CommandAgentOptions {
  /** Shell command, run with `sh -c` in the checkout. */
  command: string;
}

export const SUMMARY_FILE_NAME = 'summary.md';
/** FORGE_PROMPT is only set below this UTF-8 size: argv + env share a ~128 KiB kernel limit per string. */
export const PROMPT_ENV_MAX_BYTES = 64 * 1024;

const SUMMARY_MAX_LINES = 20;
const SUMMARY_MAX_BYTES = 4 * 1024;
/** GitHub rejects PR bodies over 65,536 characters; leave room for Forge's own footer. */
const SUMMARY_FILE_MAX_BYTES = 60_000;
export const STDERR_TAIL_LINES = 5;
const STDERR_LINE_MAX_CHARS = 500;

export class CommandAgent implements AgentRunner {
  readonly name = 'command';
  readonly #command: string;

  constructor(options: CommandAgentOptions) {
    if (!options.command.trim()) throw new TypeError('CommandAgent needs a non-empty command');
    this.#command = options.command;
  }

  async run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const { session } = ctx;
    let promptFile: Awaited<ReturnType<typeof writePromptFile>>;
    try {
      promptFile = await writePromptFile(session, input.prompt);
    } catch (error) {
      // A directory a setup command left at the prompt file's name: nothing has run yet.
      if (!(error instanceof RefusedPathError)) throw error;
      return {
        conclusion: 'failure',
        error: `Forge could not write the prompt file: ${refusalText(error)}.`,
      };
    }
    // The scratch dir is per turn, but a session may run more than one command: never report a
    // summary an earlier command left behind. (A directory there is refused when read.)
    await removeScratchFile(session, SUMMARY_FILE_NAME).catch(() => undefined);

    const env: Record<string, string> = {
      // The turn's gateway token under each provider's standard names (never a real key).
      ...(ctx.model ? modelEnvironment(ctx.model) : {}),
      FORGE_TASK_ID: input.taskId,
      FORGE_PROMPT_FILE: promptFile.path,
      FORGE_SUMMARY_FILE: scratchFile(session, SUMMARY_FILE_NAME).path,
    };
    if (input.model) env.FORGE_MODEL = input.model;
    // NUL cannot be carried in an environment variable; such a prompt is only available by file.
    if (Buffer.byteLength(input.prompt, 'utf8') < PROMPT_ENV_MAX_BYTES && !input.prompt.includes('\0')) {
      env.FORGE_PROMPT = input.prompt;
    }

    const stdoutTail = new Tail(SUMMARY_MAX_LINES);
    const stderrTail = new Tail(STDERR_TAIL_LINES);
    const result = await session.exec(['sh', '-c', this.#command], {
      env,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      idleTimeoutMs: ctx.idleTimeoutMs,
      onLine: (stream, line) => {
        (stream === 'stdout' ? stdoutTail : stderrTail).push(line);
        ctx.onLine(stream, line);
      },
    });

    // A link (to /proc/self/environ, another task's checkout …), a FIFO or a directory is ignored.
    const fromFile = (
      await bestEffort(ctx, 'ignored the summary file', undefined, () =>
        readScratchFile(session, SUMMARY_FILE_NAME, SUMMARY_FILE_MAX_BYTES),
      )
    )?.trim();
    const summary = fromFile || summarizeLastLines(stdoutTail.lines) || undefined;
    if (summary) ctx.onEvent({ type: 'summary', text: summary });

    const outcome = describeExecEnd(result, ctx, 'The agent command');
    const error =
      outcome.conclusion === 'failure' && result.end === 'exited'
        ? appendStderr(outcome.error, stderrTail.lines)
        : outcome.error;
    return {
      conclusion: outcome.conclusion,
      ...(summary ? { summary } : {}),
      ...(error ? { error } : {}),
      exitCode: result.exitCode,
      end: result.end,
    };
  }
}

/**
 * Maps how a command ended to an agent conclusion and a user-facing reason. Shared wording for
 * every runner that executes a CLI in a sandbox.
 */
export function describeExecEnd(
  result: ExecResult,
  limits: { timeoutMs: number; idleTimeoutMs?: number | undefined },
  subject = 'The agent',
): { conclusion: AgentConclusion; error?: string } {
  switch (result.end) {
    case 'exited':
      if (result.exitCode === 0) return { conclusion: 'success' };
      if (result.exitCode === null)
        return { conclusion: 'failure', error: `${subject} was killed by a signal.` };
      return { conclusion: 'failure', error: `${subject} exited with code ${result.exitCode}.` };
    case 'aborted':
      return { conclusion: 'cancelled', error: 'The agent was cancelled.' };
    case 'timeout':
      return {
        conclusion: 'timed_out',
        error: `The agent ran longer than ${formatDuration(limits.timeoutMs)} and was stopped.`,
      };
    case 'idle_timeout':
      return {
        conclusion: 'timed_out',
        error: `The agent produced no output for ${formatDuration(limits.idleTimeoutMs ?? 0)} and was stopped.`,
      };
    case 'oom':
      return {
        conclusion: 'failure',
        error:
          'The agent ran out of memory and was stopped (an operator can raise `FORGE_SANDBOX_MEMORY_MB`).',
      };
  }
}

/** "30 minutes", "1 minute", "1.5 minutes"; below a minute in seconds ("45 seconds"). */
export function formatDuration(ms: number): string {
  const [value, unit] = ms >= 60_000 ? [ms / 60_000, 'minute'] : [ms / 1_000, 'second'];
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} ${unit}${rounded === 1 ? '' : 's'}`;
}

/** The last non-empty stdout lines, at most SUMMARY_MAX_LINES and SUMMARY_MAX_BYTES. */
export function summarizeLastLines(lines: readonly string[]): string {
  const picked: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && picked.length < SUMMARY_MAX_LINES; i--) {
    const line = stripAnsi(lines[i] ?? '').trimEnd();
    if (!line.trim()) continue;
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes + size > SUMMARY_MAX_BYTES) {
      // A single huge last line still yields something: its end, where the conclusion usually is.
      if (picked.length === 0) picked.push(`…${line.slice(-(SUMMARY_MAX_BYTES / 4))}`);
      break;
    }
    picked.unshift(line);
    bytes += size;
  }
  return picked.join('\n');
}

/** Appends the last stderr lines to a failure reason, fenced as Markdown (shared by the CLI runners). */
export function appendStderr(message: string | undefined, stderr: readonly string[]): string | undefined {
  const lines = stderr
    .map((line) => stripAnsi(line).trimEnd())
    .filter((line) => line.trim())
    .map((line) => (line.length > STDERR_LINE_MAX_CHARS ? `${line.slice(0, STDERR_LINE_MAX_CHARS)}…` : line));
  if (!message || lines.length === 0) return message;
  const body = lines.join('\n');
  // The reason is rendered as Markdown: the fence must be longer than any backtick run inside.
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${message}\n\nLast lines of stderr:\n${fence}\n${body}\n${fence}`;
}

// CSI / OSC escape sequences (colours, cursor moves, hyperlinks) are noise in a PR body.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC and BEL is the point.
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\))/g;

export function stripAnsi(text: string): string {
  return text.includes('\u001b') ? text.replace(ANSI, '') : text;
}

/** Keeps the last `size` non-empty lines. */
export class Tail {
  readonly lines: string[] = [];
  constructor(readonly size: number) {}
  push(line: string): void {
    if (!line.trim()) return;
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }
}

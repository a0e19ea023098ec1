/**
 * The `gemini` agent: Gemini CLI in headless mode,
 *
 *   gemini -p '' -m MODEL --output-format stream-json --yolo [--resume ID | --session-file FILE]
 *
 * with the prompt on stdin (Gemini CLI reads up to 8 MiB there and appends `-p`, here empty). `-m`
 * is always given: without it the CLI's model router retries for minutes. `--yolo` runs tools
 * unattended (the sandbox is the boundary). The CLI reaches the model through Forge's gateway:
 * GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY carry the gateway's URL and the turn's token, never a
 * provider key. Settings live in the per-task home (gemini-config.ts); resuming is in
 * gemini-session.ts.
 */
import {
  cliFailure,
  concludeRun,
  MODEL_NAME,
  modelStatusHint,
  proxyEnv,
  runCli,
  SESSION_ID,
  statusIn,
} from './cli-support.js';
import { writeGeminiSettings } from './gemini-config.js';
import { prepareGeminiResume } from './gemini-session.js';
import { GeminiStreamParser } from './gemini-stream.js';
import { isRecord } from './stream-lines.js';
import type { AgentResult, AgentRunContext, AgentRunInput, AgentRunner } from './types.js';

/** Gemini CLI 0.61's own default model. */
export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-pro';
/** Gemini CLI truncates stdin beyond this. */
export const GEMINI_STDIN_MAX_BYTES = 8 * 1024 * 1024;

const SUBJECT = 'Gemini CLI';
const KEY_SETTING = 'GEMINI_API_KEY';

export interface GeminiAgentOptions {
  /** Used when the turn names no model. Default: DEFAULT_GEMINI_MODEL. */
  model?: string;
  /** The executable (on the sandbox's PATH, or a path). Default: `gemini`. */
  command?: string;
}

export class GeminiAgent implements AgentRunner {
  readonly name = 'gemini';
  readonly #model: string;
  readonly #command: string;

  constructor(options: GeminiAgentOptions = {}) {
    this.#model = options.model ?? DEFAULT_GEMINI_MODEL;
    this.#command = options.command ?? 'gemini';
    if (!MODEL_NAME.test(this.#model)) throw new TypeError(`invalid default Gemini model: ${this.#model}`);
  }

  async run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const model = input.model ?? this.#model;
    const refused = refusal(input, ctx, model);
    if (refused) return { conclusion: 'failure', error: refused };
    const access = ctx.model!;
    const { session } = ctx;

    await writeGeminiSettings(session);
    const resume = input.sessionId ? await prepareGeminiResume(session, input.sessionId) : undefined;
    if (resume?.kind === 'fresh') ctx.onEvent({ type: 'message', text: resume.note });

    const parser = new GeminiStreamParser({ checkoutDir: session.workdir });
    const run = await runCli(ctx, {
      argv: [
        this.#command,
        '-p',
        '',
        '-m',
        model,
        '--output-format',
        'stream-json',
        '--yolo',
        ...(resume?.args ?? []),
      ],
      env: {
        GEMINI_API_KEY: access.token,
        GOOGLE_GEMINI_BASE_URL: access.geminiBaseUrl,
        GEMINI_CLI_TRUST_WORKSPACE: 'true',
        // Settings and sessions in the per-task home, whatever the image's environment says.
        GEMINI_CLI_HOME: session.homeDir,
        // One process instead of a launcher that re-spawns itself (and ignores SIGTERM meanwhile).
        GEMINI_CLI_NO_RELAUNCH: 'true',
        GEMINI_TELEMETRY_ENABLED: 'false',
        NO_COLOR: '1',
        ...proxyEnv(access),
      },
      stdin: input.prompt,
      parser,
    });

    const result = parser.result;
    const reported = result.error ? describeGeminiError(result.error) : undefined;
    const cliError = reported
      ? cliFailure(SUBJECT, reported.text, modelStatusHint(reported.status, KEY_SETTING))
      : exitReason(run.exec.exitCode);
    const outcome = concludeRun(run, ctx, SUBJECT, cliError);
    return {
      conclusion: outcome.conclusion,
      ...(result.summary ? { summary: result.summary } : {}),
      ...(result.sessionId ? { sessionId: result.sessionId } : {}),
      ...(result.usage ? { usage: result.usage } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      exitCode: run.exec.exitCode,
    };
  }
}

/** Why the turn cannot start, in words for the user; undefined when it can. */
function refusal(input: AgentRunInput, ctx: AgentRunContext, model: string): string | undefined {
  if (!ctx.model) return 'The gemini agent needs the model gateway, which is not configured on this Forge.';
  if (!MODEL_NAME.test(model))
    return `\`${model.slice(0, 80).replace(/`/g, "'")}\` is not a valid model name.`;
  if (input.sessionId !== undefined && !SESSION_ID.test(input.sessionId)) {
    return 'The stored Gemini CLI session id is malformed; start a new task.';
  }
  if (!input.prompt.trim()) return 'Gemini CLI needs a non-empty prompt.';
  if (Buffer.byteLength(input.prompt, 'utf8') > GEMINI_STDIN_MAX_BYTES) {
    return `The prompt is larger than the ${GEMINI_STDIN_MAX_BYTES / 1024 / 1024} MiB Gemini CLI reads; shorten the request.`;
  }
  return undefined;
}

/**
 * Gemini CLI wraps a failed model call as `[API Error: <the API's JSON body>]`; the body's
 * `error.code` and `error.message` (Google's error shape, sometimes inside an array) say it better.
 */
export function describeGeminiError(message: string): { text: string; status?: number } {
  const wrapped = /^\[API Error: ([\s\S]*)\]$/.exec(message.trim());
  if (wrapped) {
    let body: unknown;
    try {
      body = JSON.parse(wrapped[1]!);
    } catch {
      body = undefined;
    }
    const first = Array.isArray(body) ? body[0] : body;
    const error = isRecord(first) && isRecord(first.error) ? first.error : undefined;
    if (error && typeof error.message === 'string') {
      const status = typeof error.code === 'number' ? error.code : statusIn(message);
      const label = [status, typeof error.status === 'string' ? error.status : undefined]
        .filter(Boolean)
        .join(' ');
      return {
        text: `the model API answered${label ? ` ${label}` : ''}: ${error.message}`,
        ...(status !== undefined ? { status } : {}),
      };
    }
  }
  const status = statusIn(message);
  return { text: message, ...(status !== undefined ? { status } : {}) };
}

/** Gemini CLI's documented exit codes, for runs that ended without an error result. */
function exitReason(code: number | null): string | undefined {
  switch (code) {
    case 0:
    case null:
      return undefined;
    case 41:
      return `${SUBJECT} could not authenticate (exit 41): check that Forge's model gateway serves Gemini (${KEY_SETTING}).`;
    case 42:
      return undefined; // input errors (e.g. a session that cannot be resumed) are best told by stderr
    case 52:
      return `${SUBJECT} rejected its configuration (exit 52).`;
    case 53:
      return `${SUBJECT} reached its maximum number of turns (exit 53).`;
    default:
      return undefined;
  }
}

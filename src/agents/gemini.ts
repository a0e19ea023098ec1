/**
 * The `gemini` agent: Gemini CLI in headless mode,
 *
 *   gemini -p '' --model=MODEL --output-format stream-json --yolo [--resume ID | --session-file FILE]
 *
 * with the prompt on stdin (Gemini CLI reads up to 8 MiB there and appends `-p`, here empty). The
 * model is always given: without it the CLI's model router retries for minutes. `--yolo` runs tools
 * unattended (the sandbox is the boundary). The CLI reaches the model through Forge's gateway:
 * GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY carry the gateway's URL and the turn's token, never a
 * provider key. Settings live in the per-task home (gemini-config.ts); resuming is in
 * gemini-session.ts.
 */
import {
  CliAgent,
  type CliAgentOptions,
  type CliInfo,
  type CliTurn,
  finishCliRun,
  promptFor,
  proxyEnv,
  runCli,
  startFreshSession,
} from './cli-run.js';
import { writeGeminiSettings } from './gemini-config.js';
import { prepareGeminiResume } from './gemini-session.js';
import { GeminiStreamParser } from './gemini-stream.js';
import { isRecord, statusIn } from './stream-lines.js';
import type { AgentResult, AgentRunContext, AgentRunInput } from './types.js';

/** Gemini CLI 0.61's own default model. */
export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-pro';
/** Gemini CLI truncates stdin beyond this. */
export const GEMINI_STDIN_MAX_BYTES = 8 * 1024 * 1024;

const CLI: CliInfo = {
  subject: 'Gemini CLI',
  keySetting: 'GEMINI_API_KEY',
  maxPromptBytes: GEMINI_STDIN_MAX_BYTES,
};

export type GeminiAgentOptions = CliAgentOptions;

export class GeminiAgent extends CliAgent {
  readonly name = 'gemini';

  constructor(options: GeminiAgentOptions = {}) {
    super(CLI, options, { model: DEFAULT_GEMINI_MODEL, executable: 'gemini' });
  }

  protected async runTurn(turn: CliTurn, _input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const { model, access } = turn;
    const { session } = ctx;

    await writeGeminiSettings(session, ctx);
    const resume = turn.resume ? await prepareGeminiResume(session, turn.resume) : undefined;
    if (turn.resume && resume?.kind === 'fresh') startFreshSession(ctx, CLI, turn.resume, resume.why);

    const parser = new GeminiStreamParser({ checkoutDir: session.workdir });
    const run = await runCli(ctx, {
      argv: [
        this.executable,
        '-p',
        '',
        // `--flag=value`: a value from a comment can never be taken for another flag.
        `--model=${model}`,
        '--output-format',
        'stream-json',
        '--yolo',
        ...this.extraArgs,
        ...(resume?.args ?? []),
      ],
      env: {
        ...this.env,
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
      // A session that cannot be resumed gets the prompt written for a new one.
      stdin: promptFor(turn, resume?.kind === 'fresh' ? undefined : turn.resume),
      parser,
    });

    const outcome = parser.outcome();
    const reported = outcome.error ? describeGeminiError(outcome.error) : undefined;
    return finishCliRun(
      CLI,
      run,
      ctx,
      {
        ...outcome,
        ...(reported ? { error: reported.text } : {}),
        ...(reported?.status !== undefined ? { apiErrorStatus: reported.status } : {}),
      },
      exitReason(run.exec.exitCode),
    );
  }
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
      return `${CLI.subject} could not authenticate (exit 41): check that Forge's model gateway serves Gemini (${CLI.keySetting}).`;
    case 42:
      return undefined; // input errors (e.g. a session that cannot be resumed) are best told by stderr
    case 52:
      return `${CLI.subject} rejected its configuration (exit 52).`;
    case 53:
      return `${CLI.subject} reached its maximum number of turns (exit 53).`;
    default:
      return undefined;
  }
}

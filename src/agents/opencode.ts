/**
 * The `opencode` agent: OpenCode in non-interactive mode,
 *
 *   opencode run --format json --model forge/MODEL --auto (--title T | --session ID)
 *
 * with the prompt on stdin (`opencode run` reads stdin when it is not a terminal and no message is
 * given on argv). `--auto` approves tool permissions unattended (the sandbox is the boundary;
 * anything a config explicitly denies stays denied). A new session gets a `--title`, which spares
 * the extra title-generation model call. The model is reached through the `forge` provider written
 * into the per-task home (opencode-config.ts): Forge's gateway, with the turn's token in
 * FORGE_MODEL_TOKEN. Resuming is in opencode-session.ts.
 */
import { posix } from 'node:path';
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
import { OPENCODE_PROVIDER, OPENCODE_TOKEN_ENV, writeOpenCodeConfig } from './opencode-config.js';
import { prepareOpenCodeResume, rememberOpenCodeSession } from './opencode-session.js';
import { OpenCodeStreamParser } from './opencode-stream.js';
import type { AgentResult, AgentRunContext, AgentRunInput, AgentRunner } from './types.js';

/** Used when neither the turn nor the operator names a model (an OpenAI model: the gateway's OpenAI upstream). */
export const DEFAULT_OPENCODE_MODEL = 'gpt-5';

const SUBJECT = 'OpenCode';
const KEY_SETTING = 'OPENAI_API_KEY';

export interface OpenCodeAgentOptions {
  /** Used when the turn names no model. Default: DEFAULT_OPENCODE_MODEL. */
  model?: string;
  /** The executable (on the sandbox's PATH, or a path). Default: `opencode`. */
  command?: string;
}

export class OpenCodeAgent implements AgentRunner {
  readonly name = 'opencode';
  readonly #model: string;
  readonly #command: string;

  constructor(options: OpenCodeAgentOptions = {}) {
    this.#model = options.model ?? DEFAULT_OPENCODE_MODEL;
    this.#command = options.command ?? 'opencode';
    if (!MODEL_NAME.test(this.#model)) throw new TypeError(`invalid default OpenCode model: ${this.#model}`);
  }

  async run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const model = input.model ?? this.#model;
    const refused = refusal(input, ctx, model);
    if (refused) return { conclusion: 'failure', error: refused };
    const access = ctx.model!;
    const { session } = ctx;

    await writeOpenCodeConfig(session, { baseUrl: access.openaiBaseUrl, model });
    const env: Record<string, string> = {
      [OPENCODE_TOKEN_ENV]: access.token,
      // Configuration, sessions and caches in the per-task home, whatever the image's environment says.
      XDG_CONFIG_HOME: posix.join(session.homeDir, '.config'),
      XDG_DATA_HOME: posix.join(session.homeDir, '.local/share'),
      XDG_STATE_HOME: posix.join(session.homeDir, '.local/state'),
      XDG_CACHE_HOME: posix.join(session.homeDir, '.cache'),
      // No models.dev catalogue, self-update, share links or language-server downloads: nothing
      // but the gateway to talk to.
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_SHARE: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      NO_COLOR: '1',
      ...proxyEnv(access),
    };

    let resume = false;
    if (input.sessionId) {
      const prepared = await prepareOpenCodeResume(ctx, {
        command: this.#command,
        sessionId: input.sessionId,
        env,
      });
      if (prepared.kind === 'fresh') ctx.onEvent({ type: 'message', text: prepared.note });
      resume = prepared.kind === 'resume';
    }
    if (ctx.signal.aborted) return { conclusion: 'cancelled', error: 'The agent was cancelled.' };

    const parser = new OpenCodeStreamParser({ checkoutDir: session.workdir });
    const run = await runCli(ctx, {
      argv: [
        this.#command,
        'run',
        '--format',
        'json',
        '--model',
        `${OPENCODE_PROVIDER}/${model}`,
        '--auto',
        ...(resume && input.sessionId
          ? ['--session', input.sessionId]
          : ['--title', `Forge task ${input.taskId}`]),
      ],
      env,
      stdin: input.prompt,
      parser,
    });

    const result = parser.result;
    if (result.sessionId && SESSION_ID.test(result.sessionId))
      await rememberOpenCodeSession(session, result.sessionId);
    const cliError = result.error
      ? cliFailure(
          SUBJECT,
          result.error,
          modelStatusHint(result.statusCode ?? statusIn(result.error), KEY_SETTING),
        )
      : undefined;
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

function refusal(input: AgentRunInput, ctx: AgentRunContext, model: string): string | undefined {
  if (!ctx.model) return 'The opencode agent needs the model gateway, which is not configured on this Forge.';
  if (!MODEL_NAME.test(model))
    return `\`${model.slice(0, 80).replace(/`/g, "'")}\` is not a valid model name.`;
  if (input.sessionId !== undefined && !SESSION_ID.test(input.sessionId)) {
    return 'The stored OpenCode session id is malformed; start a new task.';
  }
  if (!input.prompt.trim()) return 'OpenCode needs a non-empty prompt.';
  return undefined;
}

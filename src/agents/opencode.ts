/**
 * The `opencode` agent: OpenCode in non-interactive mode,
 *
 *   opencode run --format json --model=forge/MODEL --auto (--title T | --session ID)
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
  CliAgent,
  type CliAgentOptions,
  type CliInfo,
  type CliTurn,
  finishCliRun,
  promptFor,
  proxyEnv,
  runCli,
  SESSION_ID,
  startFreshSession,
} from './cli-run.js';
import { OPENCODE_PROVIDER, OPENCODE_TOKEN_ENV, writeOpenCodeConfig } from './opencode-config.js';
import { prepareOpenCodeResume, rememberOpenCodeSession } from './opencode-session.js';
import { OpenCodeStreamParser } from './opencode-stream.js';
import type { AgentResult, AgentRunContext, AgentRunInput } from './types.js';

/** Used when neither the turn nor the operator names a model (an OpenAI model: the gateway's OpenAI upstream). */
export const DEFAULT_OPENCODE_MODEL = 'gpt-5';

const CLI: CliInfo = { subject: 'OpenCode', keySetting: 'OPENAI_API_KEY' };

export type OpenCodeAgentOptions = CliAgentOptions;

export class OpenCodeAgent extends CliAgent {
  readonly name = 'opencode';

  constructor(options: OpenCodeAgentOptions = {}) {
    super(CLI, options, { model: DEFAULT_OPENCODE_MODEL, executable: 'opencode' });
  }

  protected async runTurn(turn: CliTurn, input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult> {
    const { model, access } = turn;
    const { session } = ctx;

    await writeOpenCodeConfig(session, { baseUrl: access.openaiBaseUrl, model });
    const env: Record<string, string> = {
      ...this.env,
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

    let resume: string | undefined;
    if (turn.resume) {
      const prepared = await prepareOpenCodeResume(ctx, {
        executable: this.executable,
        sessionId: turn.resume,
        env,
      });
      if (prepared.kind === 'fresh') startFreshSession(ctx, CLI, turn.resume, prepared.why);
      else resume = turn.resume;
    }
    if (ctx.signal.aborted) return { conclusion: 'cancelled', error: 'The agent was cancelled.' };

    const parser = new OpenCodeStreamParser({ checkoutDir: session.workdir });
    const run = await runCli(ctx, {
      argv: [
        this.executable,
        'run',
        '--format',
        'json',
        // `--flag=value`: a value from a comment can never be taken for another flag.
        `--model=${OPENCODE_PROVIDER}/${model}`,
        '--auto',
        ...(resume ? ['--session', resume] : ['--title', `Forge task ${input.taskId}`]),
        ...this.extraArgs,
      ],
      env,
      // A session that cannot be resumed gets the prompt written for a new one.
      stdin: promptFor(turn, resume),
      parser,
    });

    const outcome = parser.outcome();
    if (outcome.sessionId && SESSION_ID.test(outcome.sessionId))
      await rememberOpenCodeSession(session, outcome.sessionId, ctx);
    return finishCliRun(CLI, run, ctx, outcome);
  }
}

/**
 * The four CLI runners without their CLIs: how each is invoked and configured, and that all four
 * use the shared pieces the same way (refusals, the flag-safe model argument, the prompt on stdin
 * with the raised line cap, the token only in the environment, a stored session id that cannot go
 * on argv). The real CLIs run in test/integration/agent-*.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecOptions, ExecResult, SandboxSession } from '../sandbox/types.js';
import { ClaudeCodeAgent, claudeCodeArgv, claudeCodeEnv, DEFAULT_CLAUDE_CODE_MODEL } from './claude-code.js';
import { CLI_MAX_LINE_BYTES } from './cli-run.js';
import { CodexAgent, codexArgv, codexConfig, codexEnv, DEFAULT_CODEX_MODEL } from './codex.js';
import { GeminiAgent } from './gemini.js';
import { OpenCodeAgent } from './opencode.js';
import type { AgentEvent, AgentRunContext, AgentRunner, ModelAccess } from './types.js';

const access: ModelAccess = {
  anthropicBaseUrl: 'http://gateway.internal:8089/anthropic',
  openaiBaseUrl: 'http://gateway.internal:8089/openai/v1',
  geminiBaseUrl: 'http://gateway.internal:8089/gemini',
  token: 'turn-token-123',
  proxyUrl: 'http://u:p@proxy.internal:3128',
};

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'forge-cli-runners-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('Claude Code invocation', () => {
  it('runs headless with stream-json, the model as one argument, resume when asked', () => {
    assert.deepEqual(claudeCodeArgv({ executable: 'claude', model: 'opus' }), [
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model=opus',
      '--dangerously-skip-permissions',
    ]);
    const resumed = claudeCodeArgv({
      executable: 'claude',
      model: '-x',
      resume: 'abc',
      extraArgs: ['--effort', 'high'],
    });
    assert.deepEqual(resumed.slice(5), [
      '--model=-x',
      '--dangerously-skip-permissions',
      '--resume=abc',
      '--effort',
      'high',
    ]);
    assert.equal(DEFAULT_CLAUDE_CODE_MODEL, 'sonnet');
  });

  it('gets the gateway and token as its Anthropic settings, quiet, and the proxy when there is one', () => {
    const env = claudeCodeEnv(
      { ...access, proxyUrl: undefined },
      { ANTHROPIC_API_KEY: 'operator-override', CLAUDE_CODE_MAX_RETRIES: '2' },
    );
    assert.equal(env.ANTHROPIC_BASE_URL, access.anthropicBaseUrl);
    assert.equal(env.ANTHROPIC_API_KEY, access.token, 'the model access variables win over extra env');
    assert.equal(env.CLAUDE_CODE_MAX_RETRIES, '2');
    for (const key of [
      'DISABLE_TELEMETRY',
      'DISABLE_AUTOUPDATER',
      'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
      'IS_SANDBOX',
    ]) {
      assert.equal(env[key], '1', key);
    }
    assert.equal(env.HTTPS_PROXY, undefined);
    assert.equal(claudeCodeEnv(access).HTTPS_PROXY, access.proxyUrl);
  });
});

describe('Codex invocation', () => {
  it('runs `codex exec --json` unattended, the prompt from stdin, `resume <id>` when asked', () => {
    assert.deepEqual(codexArgv({ executable: 'codex', model: 'gpt-5.5' }), [
      'codex',
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '--model=gpt-5.5',
      '-',
    ]);
    assert.deepEqual(
      codexArgv({ executable: 'codex', model: 'm', resume: 'id-1', extraArgs: ['-c', 'a=1'] }).slice(5),
      ['--model=m', '-c', 'a=1', 'resume', 'id-1', '-'],
    );
    assert.equal(DEFAULT_CODEX_MODEL, 'gpt-6.1-sol');
  });

  it('reads its key from FORGE_MODEL_TOKEN and keeps CODEX_HOME in the home', () => {
    const env = codexEnv({ ...access, proxyUrl: undefined }, '/home/agent/.codex', {
      FORGE_MODEL_TOKEN: 'x',
      RUST_LOG: 'warn',
    });
    assert.deepEqual(env, {
      RUST_LOG: 'warn',
      CODEX_HOME: '/home/agent/.codex',
      FORGE_MODEL_TOKEN: access.token,
    });
  });

  it('configures one provider, the gateway, with no secret in the file', () => {
    const config = codexConfig({ ...access, openaiBaseUrl: 'http://gw/"odd"/v1' });
    assert.match(config, /^model_provider = "forge"$/m);
    assert.match(config, /^base_url = "http:\/\/gw\/\\"odd\\"\/v1"$/m);
    assert.match(config, /^env_key = "FORGE_MODEL_TOKEN"$/m);
    assert.match(config, /^wire_api = "responses"$/m);
    assert.match(config, /^check_for_update_on_startup = false$/m);
    assert.match(config, /^\[shell_environment_policy\]\nexclude = \["FORGE_MODEL_TOKEN"\]$/m);
    assert.ok(!config.includes(access.token));
  });
});

interface RunnerCase {
  subject: string;
  executable: string;
  make(options: { extraArgs?: string[]; env?: Record<string, string>; model?: string }): AgentRunner;
  /** The argument that names model `m`. */
  modelArg(model: string): string;
  tokenVar: string;
  /** The CLI's own run among the runner's execs (OpenCode also runs `export`/`import`). */
  isRun(argv: string[]): boolean;
  /** Leaves session `id` in the home (at `hostHome`) as the CLI would, for this checkout. */
  keepSession(hostHome: string, id: string): Promise<void>;
  /**
   * How the CLI answers a resume of a session its home does not have, for CLIs that find out by
   * trying (the others look in the home first, which is empty here).
   */
  loseSession?(argv: string[], options: ExecOptions): ExecResult | undefined;
}

const nothingToKeep = () => Promise.resolve();

const RUNNERS: RunnerCase[] = [
  {
    subject: 'Claude Code',
    executable: 'claude',
    make: (o) => new ClaudeCodeAgent({ executable: 'claude', ...o }),
    modelArg: (m) => `--model=${m}`,
    tokenVar: 'ANTHROPIC_API_KEY',
    isRun: (argv) => argv[0] === 'claude',
    keepSession: nothingToKeep,
    loseSession(argv, options) {
      const resume = argv.find((a) => a.startsWith('--resume='));
      if (!resume) return undefined;
      options.onLine(
        'stdout',
        JSON.stringify({
          type: 'result',
          subtype: 'error_during_execution',
          is_error: true,
          errors: [`No conversation found with session ID: ${resume.slice('--resume='.length)}`],
        }),
      );
      return { exitCode: 1, end: 'exited', durationMs: 1 };
    },
  },
  {
    subject: 'Codex',
    executable: 'codex',
    make: (o) => new CodexAgent({ executable: 'codex', ...o }),
    modelArg: (m) => `--model=${m}`,
    tokenVar: 'FORGE_MODEL_TOKEN',
    isRun: (argv) => argv[0] === 'codex',
    keepSession: nothingToKeep,
    loseSession(argv, options) {
      const at = argv.indexOf('resume');
      if (at === -1) return undefined;
      options.onLine('stderr', `Error: thread/resume failed: no rollout found for thread id ${argv[at + 1]}`);
      return { exitCode: 1, end: 'exited', durationMs: 1 };
    },
  },
  {
    subject: 'Gemini CLI',
    executable: 'gemini',
    make: (o) => new GeminiAgent({ executable: 'gemini', ...o }),
    modelArg: (m) => `--model=${m}`,
    tokenVar: 'GEMINI_API_KEY',
    isRun: (argv) => argv[0] === 'gemini',
    async keepSession(hostHome, id) {
      const chats = join(hostHome, '.gemini/tmp/workspace/chats');
      await mkdir(chats, { recursive: true });
      await writeFile(
        join(chats, `session-2026-01-01T00-00-${id.slice(0, 8)}.jsonl`),
        `${JSON.stringify({ sessionId: id, projectHash: 'h', messages: [] })}\n`,
      );
      await writeFile(
        join(hostHome, '.gemini/projects.json'),
        JSON.stringify({ projects: { '/workspace': 'workspace' } }),
      );
    },
  },
  {
    subject: 'OpenCode',
    executable: 'opencode',
    make: (o) => new OpenCodeAgent({ executable: 'opencode', ...o }),
    modelArg: (m) => `--model=forge/${m}`,
    tokenVar: 'FORGE_MODEL_TOKEN',
    isRun: (argv) => argv[0] === 'opencode' && argv[1] === 'run',
    async keepSession(hostHome, id) {
      await mkdir(join(hostHome, '.forge'), { recursive: true });
      await writeFile(
        join(hostHome, '.forge/opencode-sessions.json'),
        JSON.stringify({ [id]: '/workspace' }),
      );
    },
  },
];

/**
 * A session whose commands print nothing and exit 0 (unless `respond` answers them), recording
 * what they were asked to run.
 */
function recordingContext(
  name: string,
  model: ModelAccess | null = access,
  respond?: (argv: string[], options: ExecOptions) => ExecResult | undefined,
) {
  const execs: Array<{ argv: string[]; options: ExecOptions }> = [];
  const lines: Array<[string, string]> = [];
  const events: AgentEvent[] = [];
  const session: SandboxSession = {
    workdir: '/workspace',
    homeDir: '/home/agent',
    hostHomeDir: join(root, name, 'home'),
    scratchDir: '/scratch',
    hostScratchDir: join(root, name, 'scratch'),
    async exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
      execs.push({ argv, options });
      return respond?.(argv, options) ?? { exitCode: 0, end: 'exited', durationMs: 1 };
    },
    destroy: () => Promise.resolve(),
  };
  const ctx: AgentRunContext = {
    session,
    ...(model ? { model } : {}),
    signal: new AbortController().signal,
    timeoutMs: 60_000,
    onLine: (stream, line) => lines.push([stream, line]),
    onEvent: (event) => events.push(event),
  };
  return { ctx, execs, lines, events };
}

describe('the four CLI runners, alike', () => {
  for (const runner of RUNNERS) {
    describe(runner.subject, () => {
      it('refuse to start without a model grant or with a model name that could pass as a flag', async () => {
        const none = recordingContext(`${runner.executable}-none`, null);
        assert.deepEqual(await runner.make({}).run({ taskId: 't', prompt: 'x' }, none.ctx), {
          conclusion: 'failure',
          error: `${runner.subject} needs model access, but the turn has no model gateway grant: the model gateway is not configured on this Forge.`,
        });
        const flag = recordingContext(`${runner.executable}-flag`);
        assert.deepEqual(await runner.make({}).run({ taskId: 't', prompt: 'x', model: '--yolo' }, flag.ctx), {
          conclusion: 'failure',
          error: '`--yolo` is not a valid model name.',
        });
        assert.deepEqual([...none.execs, ...flag.execs], [], 'nothing ran');
        assert.throws(() => runner.make({ model: '-x' }), TypeError);
      });

      it('give the CLI the prompt on stdin, the model as one argument, the token only in its environment', async () => {
        const { ctx, execs } = recordingContext(`${runner.executable}-run`);
        const agent = runner.make({
          extraArgs: ['--extra-flag'],
          env: { OPERATOR_SETTING: 'on', [runner.tokenVar]: 'operator-value', HTTPS_PROXY: 'http://other' },
        });
        const result = await agent.run({ taskId: 't', prompt: 'the prompt', model: 'm-1' }, ctx);
        assert.equal(result.conclusion, 'success', result.error);
        const runs = execs.filter((e) => runner.isRun(e.argv));
        assert.equal(runs.length, 1);
        const { argv, options } = runs[0]!;
        assert.ok(argv.includes(runner.modelArg('m-1')), argv.join(' '));
        assert.ok(argv.includes('--extra-flag'));
        assert.equal(options.stdin, 'the prompt');
        assert.ok(!argv.some((a) => a.includes('the prompt')));
        assert.equal(options.maxLineBytes, CLI_MAX_LINE_BYTES);
        assert.equal(options.env?.[runner.tokenVar], access.token, 'the model access variables win');
        assert.equal(options.env?.OPERATOR_SETTING, 'on');
        assert.equal(options.env?.HTTPS_PROXY, access.proxyUrl);
        assert.equal(options.env?.https_proxy, access.proxyUrl);
        for (const exec of execs) assert.ok(!exec.argv.join(' ').includes(access.token), 'token on argv');
      });

      it('start a new session, saying so, when the stored session id cannot go on argv', async () => {
        const { ctx, execs, lines, events } = recordingContext(`${runner.executable}-bad-id`);
        const result = await runner.make({}).run({ taskId: 't', prompt: 'x', sessionId: '-rf' }, ctx);
        assert.equal(result.conclusion, 'success', result.error);
        const note = `The previous ${runner.subject} session (-rf) has an id Forge cannot pass on; starting a new one.`;
        assert.deepEqual(events, [{ type: 'message', text: note }]);
        assert.deepEqual(lines, [['stderr', `forge: ${note}`]]);
        assert.equal(execs.length, 1, 'no export, no resume attempt');
        assert.ok(!execs[0]!.argv.includes('-rf'));
      });

      const prompts = {
        prompt: 'resumed: the new instruction',
        freshPrompt: 'earlier turns + the new instruction',
      };

      it('resume a session the home has with the prompt written for resuming it', async () => {
        const recorded = recordingContext(`${runner.executable}-kept`);
        await runner.keepSession(recorded.ctx.session.hostHomeDir, 'ses_kept1');
        const result = await runner
          .make({})
          .run({ taskId: 't', ...prompts, sessionId: 'ses_kept1' }, recorded.ctx);
        assert.equal(result.conclusion, 'success', result.error);
        const runs = recorded.execs.filter((e) => runner.isRun(e.argv));
        assert.equal(runs.length, 1);
        assert.ok(runs[0]!.argv.join(' ').includes('ses_kept1'), 'the session is resumed');
        assert.equal(runs[0]!.options.stdin, prompts.prompt);
        assert.deepEqual(recorded.events, [], 'no new session to tell about');
      });

      it('start over with the prompt written for a new session when the session to resume is gone', async () => {
        const recorded = recordingContext(`${runner.executable}-lost`, access, runner.loseSession);
        const result = await runner
          .make({})
          .run({ taskId: 't', ...prompts, sessionId: 'ses_lost1' }, recorded.ctx);
        assert.equal(result.conclusion, 'success', result.error);
        const runs = recorded.execs.filter((e) => runner.isRun(e.argv));
        const fresh = runs.at(-1)!;
        assert.ok(!fresh.argv.join(' ').includes('ses_lost1'), 'a new session');
        assert.equal(
          fresh.options.stdin,
          prompts.freshPrompt,
          'the new session is told about the earlier turns',
        );
        if (runner.loseSession) {
          assert.equal(runs.length, 2, 'the resume attempt, then a new session');
          assert.equal(runs[0]!.options.stdin, prompts.prompt);
        } else assert.equal(runs.length, 1, 'the home had no such session: no resume attempt');
        const note = `The previous ${runner.subject} session (ses_lost1) is no longer in the task's home; starting a new one.`;
        assert.ok(recorded.events.some((e) => e.type === 'message' && e.text === note));
      });
    });
  }
});

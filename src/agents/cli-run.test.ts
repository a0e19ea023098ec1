/**
 * The pure parts of the Claude Code and Codex runners: how each CLI is invoked and configured,
 * shared failure wording, home files, and reading JSON cut at the line cap.
 */
import assert from 'node:assert/strict';
import { chown, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SandboxSession } from '../sandbox/types.js';
import { ClaudeCodeAgent, claudeCodeArgv, claudeCodeEnv, DEFAULT_CLAUDE_CODE_MODEL } from './claude-code.js';
import {
  cliFailure,
  concludeCli,
  explainModelStatus,
  proxyEnv,
  SESSION_ID,
  writeHomeFile,
} from './cli-run.js';
import { CodexAgent, codexArgv, codexConfig, codexEnv, DEFAULT_CODEX_MODEL } from './codex.js';
import { parseJsonPrefix } from './stream-util.js';
import type { AgentRunContext, ModelAccess } from './types.js';

const access: ModelAccess = {
  anthropicBaseUrl: 'http://gateway.internal:8089/anthropic',
  openaiBaseUrl: 'http://gateway.internal:8089/openai/v1',
  geminiBaseUrl: 'http://gateway.internal:8089/gemini',
  token: 'turn-token-123',
};

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'forge-cli-run-test-'));
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
    const env = claudeCodeEnv(access, {
      ANTHROPIC_API_KEY: 'operator-override',
      CLAUDE_CODE_MAX_RETRIES: '2',
    });
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
    const proxied = claudeCodeEnv({ ...access, proxyUrl: 'http://u:p@proxy:3128' });
    assert.equal(proxied.HTTPS_PROXY, 'http://u:p@proxy:3128');
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
    const env = codexEnv(access, '/home/agent/.codex', { FORGE_MODEL_TOKEN: 'x', RUST_LOG: 'warn' });
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

describe('both runners without a model grant', () => {
  it('fail with a clear reason and run nothing', async () => {
    const ctx = {
      session: {} as SandboxSession,
      signal: new AbortController().signal,
      timeoutMs: 1000,
      onLine: () => assert.fail('nothing should run'),
      onEvent: () => assert.fail('nothing should run'),
    } satisfies AgentRunContext;
    for (const agent of [new ClaudeCodeAgent(), new CodexAgent()]) {
      const result = await agent.run({ taskId: 't', prompt: 'x' }, ctx);
      assert.equal(result.conclusion, 'failure');
      assert.match(result.error ?? '', /needs model access, but the turn has no model gateway grant/);
    }
  });
});

describe('proxyEnv', () => {
  it('sets both spellings and sends the gateway hosts around the proxy', () => {
    assert.deepEqual(proxyEnv(access), {});
    const env = proxyEnv({ ...access, anthropicBaseUrl: 'http://[::1]:9/a', proxyUrl: 'http://proxy:3128' });
    assert.equal(env.https_proxy, 'http://proxy:3128');
    assert.equal(env.HTTP_PROXY, 'http://proxy:3128');
    assert.deepEqual(env.NO_PROXY?.split(','), ['localhost', '127.0.0.1', '::1', 'gateway.internal']);
    assert.equal(env.no_proxy, env.NO_PROXY);
  });
});

describe('writeHomeFile', () => {
  it("writes under the home, creating directories, owned by the home's owner", async () => {
    const home = join(root, 'home');
    await mkdir(home);
    const isRoot = process.getuid?.() === 0;
    if (isRoot) await chown(home, 1000, 1000);
    const session = { hostHomeDir: home } as SandboxSession;
    const path = await writeHomeFile(session, '.codex/nested/config.toml', 'a = 1\n');
    assert.equal(await readFile(path, 'utf8'), 'a = 1\n');
    const expected = isRoot ? 1000 : process.getuid?.();
    for (const entry of [join(home, '.codex'), join(home, '.codex/nested'), path]) {
      assert.equal((await stat(entry)).uid, expected, entry);
    }
    await assert.rejects(writeHomeFile(session, '../escape.txt', 'x'), TypeError);
  });
});

describe('failure wording', () => {
  const limits = { timeoutMs: 60_000, idleTimeoutMs: 30_000 };
  it('prefers the sandbox end, then the CLI error, then the exit code with stderr', () => {
    const exited = (exitCode: number) => ({ exitCode, end: 'exited' as const, durationMs: 1 });
    assert.deepEqual(
      concludeCli({ exitCode: null, end: 'timeout', durationMs: 1 }, limits, 'Codex', 'boom', []),
      {
        conclusion: 'timed_out',
        error: 'The agent ran longer than 1 minute and was stopped.',
      },
    );
    assert.deepEqual(concludeCli(exited(1), limits, 'Codex', 'Codex failed: boom', ['x']), {
      conclusion: 'failure',
      error: 'Codex failed: boom',
    });
    const plain = concludeCli(exited(2), limits, 'Codex', undefined, ['fatal: no such thing']);
    assert.equal(plain.conclusion, 'failure');
    assert.match(
      plain.error ?? '',
      /^Codex exited with code 2\.\n\nLast lines of stderr:\n```\nfatal: no such thing\n```$/,
    );
    assert.deepEqual(concludeCli(exited(0), limits, 'Codex', undefined, []), { conclusion: 'success' });
  });

  it('explains model API statuses with the setting to check', () => {
    assert.match(explainModelStatus(401, 'ANTHROPIC_API_KEY') ?? '', /HTTP 401.*ANTHROPIC_API_KEY/);
    assert.match(explainModelStatus(429, 'X') ?? '', /rate limit/);
    assert.match(explainModelStatus(529, 'X') ?? '', /temporary/);
    assert.equal(explainModelStatus(undefined, 'X'), undefined);
    assert.equal(explainModelStatus(302, 'X'), undefined);
    assert.equal(cliFailure('Codex', '  a\n b ', 'Hint.'), 'Codex failed: a b\n\nHint.');
    assert.equal(cliFailure('Codex', 'x'.repeat(600)).length, 'Codex failed: '.length + 501);
  });

  it('accepts only plain session ids for resume', () => {
    assert.ok(SESSION_ID.test('01a242f1-582e-79c0-b82d-4eea2594f738'));
    assert.ok(!SESSION_ID.test('--dangerous'));
    assert.ok(!SESSION_ID.test('a b'));
  });
});

describe('parseJsonPrefix', () => {
  it('reads as much of a cut JSON text as is whole, keeping cut strings', () => {
    assert.deepEqual(parseJsonPrefix('{"a":1,"b":[true,null,"x"],"c":{"d":"hel'), {
      a: 1,
      b: [true, null, 'x'],
      c: { d: 'hel…' },
    });
    assert.deepEqual(parseJsonPrefix('{"n":12'), {}, 'a number at the cut may be incomplete');
    assert.deepEqual(parseJsonPrefix('{"k'), {});
    assert.deepEqual(parseJsonPrefix('{"s":"a\\n\\u00e9\\'), { s: 'a\né…' });
    assert.deepEqual(parseJsonPrefix('[1,2,'), [1, 2]);
    assert.deepEqual(parseJsonPrefix('{"whole":{"x":1}}'), { whole: { x: 1 } });
    assert.equal(parseJsonPrefix('Error: not json'), undefined);
    assert.equal(parseJsonPrefix(''), undefined);
  });
});

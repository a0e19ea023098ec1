import assert from 'node:assert/strict';
import { chown, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecResult, SandboxSession } from '../sandbox/types.js';
import {
  type CliRun,
  concludeRun,
  modelStatusHint,
  proxyEnv,
  sandboxHomePath,
  statusIn,
  writeHomeFile,
} from './cli-support.js';
import { geminiSettings, writeGeminiSettings } from './gemini-config.js';
import { openCodeConfig, writeOpenCodeConfig } from './opencode-config.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'forge-cli-support-'));
});
after(() => rm(root, { recursive: true, force: true }));

function sessionWithHome(hostHomeDir: string): SandboxSession {
  return {
    workdir: '/workspace',
    homeDir: '/home/agent',
    hostHomeDir,
    scratchDir: '/tmp/scratch',
    hostScratchDir: join(root, 'scratch'),
    exec: () => Promise.reject(new Error('not used')),
    destroy: () => Promise.resolve(),
  };
}

const access = {
  anthropicBaseUrl: 'http://forge-gateway:8080',
  openaiBaseUrl: 'http://10.1.2.3:8080/v1',
  geminiBaseUrl: 'http://[fd00::5]:8080',
  token: 't',
};

describe('proxyEnv', () => {
  it('is empty without a proxy', () => {
    assert.deepEqual(proxyEnv(access), {});
    assert.deepEqual(proxyEnv(undefined), {});
  });

  it('sets both spellings and keeps the gateway hosts direct', () => {
    const env = proxyEnv({ ...access, proxyUrl: 'http://u:p@proxy:3128' });
    for (const key of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'])
      assert.equal(env[key], 'http://u:p@proxy:3128');
    assert.equal(env.NO_PROXY, 'localhost,127.0.0.1,::1,forge-gateway,10.1.2.3,fd00::5');
    assert.equal(env.no_proxy, env.NO_PROXY);
  });
});

describe('writeHomeFile', () => {
  it('creates the directories and never leaves the home', async () => {
    const home = join(root, 'home-a');
    const session = sessionWithHome(home);
    const path = await writeHomeFile(session, '.config/tool/config.json', '{}');
    assert.equal(path, join(home, '.config/tool/config.json'));
    assert.equal(await readFile(path, 'utf8'), '{}');
    await assert.rejects(writeHomeFile(session, '../escape.txt', 'x'), TypeError);
    assert.equal(sandboxHomePath(session, '.gemini/settings.json'), '/home/agent/.gemini/settings.json');
  });

  it("hands what it creates to the home's owner (a container user), when the worker is root", async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to chown');
    const home = join(root, 'home-b');
    await mkdir(join(home, '.config'), { recursive: true });
    await chown(home, 1000, 1000);
    await writeHomeFile(sessionWithHome(home), '.config/opencode/opencode.json', '{}');
    assert.equal((await stat(join(home, '.config/opencode'))).uid, 1000);
    assert.equal((await stat(join(home, '.config/opencode/opencode.json'))).uid, 1000);
    assert.equal((await stat(join(home, '.config'))).uid, 0, 'existing directories are left as they are');
  });
});

describe('concludeRun', () => {
  const run = (exec: Partial<ExecResult>, stderr: string[] = []): CliRun => ({
    exec: { exitCode: 0, end: 'exited', durationMs: 1, ...exec },
    stderr,
  });
  const limits = { timeoutMs: 60_000, idleTimeoutMs: 120_000 };

  it('lets the sandbox verdict win, then the CLI error, then a bare exit with stderr', () => {
    assert.deepEqual(concludeRun(run({}), limits, 'X', undefined), { conclusion: 'success' });
    assert.deepEqual(concludeRun(run({ end: 'timeout', exitCode: null }), limits, 'X', 'X failed: boom'), {
      conclusion: 'timed_out',
      error: 'The agent ran longer than 1 minute and was stopped.',
    });
    assert.deepEqual(
      concludeRun(run({ end: 'aborted', exitCode: null }), limits, 'X', undefined).conclusion,
      'cancelled',
    );
    assert.deepEqual(concludeRun(run({}), limits, 'X', 'X failed: boom'), {
      conclusion: 'failure',
      error: 'X failed: boom',
    });
    const bare = concludeRun(run({ exitCode: 3 }, ['fatal: it broke']), limits, 'X', undefined);
    assert.equal(bare.conclusion, 'failure');
    assert.match(bare.error!, /^X exited with code 3\.\n\nLast lines of stderr:\n```\nfatal: it broke\n```$/);
  });
});

describe('model API statuses', () => {
  it('finds the status in CLI error texts and says what to do', () => {
    assert.equal(statusIn('got status: 429 Too Many Requests'), 429);
    assert.equal(statusIn('{"error":{"code": 401}}'), 401);
    assert.equal(statusIn('HTTP 503 from upstream'), 503);
    assert.equal(statusIn('took 401 ms'), undefined);
    assert.match(modelStatusHint(403, 'GEMINI_API_KEY')!, /check GEMINI_API_KEY/);
    assert.match(
      modelStatusHint(429, 'K')!,
      /rate limit, the provider account's quota, or this task's budget/,
    );
    assert.match(modelStatusHint(404, 'K')!, /model name/);
    assert.match(modelStatusHint(502, 'K')!, /temporary/);
    assert.equal(modelStatusHint(undefined, 'K'), undefined);
  });
});

describe('CLI configuration files', () => {
  it("lays Forge's Gemini settings over the CLI's own", async () => {
    const merged = geminiSettings({
      security: { auth: { selectedType: 'oauth-personal' }, folderTrust: { enabled: true } },
      ui: { theme: 'Dracula' },
    });
    assert.deepEqual(merged.security, {
      auth: { selectedType: 'gemini-api-key' },
      folderTrust: { enabled: true },
    });
    assert.deepEqual(merged.ui, { theme: 'Dracula' });
    assert.deepEqual(geminiSettings('garbage').context, { fileName: ['GEMINI.md', 'AGENTS.md'] });
    const home = join(root, 'home-c');
    await mkdir(join(home, '.gemini'), { recursive: true });
    await writeGeminiSettings(sessionWithHome(home));
    const written = JSON.parse(await readFile(join(home, '.gemini/settings.json'), 'utf8'));
    assert.equal(written.privacy.usageStatisticsEnabled, false);
    assert.equal(written.advanced.ignoreLocalEnv, true);
  });

  it('gives OpenCode one gateway provider with the key from the environment, and seeds its plugin dependency', async () => {
    assert.deepEqual(openCodeConfig({ baseUrl: 'http://gw/v1', model: 'org/model-1' }), {
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      model: 'forge/org/model-1',
      small_model: 'forge/org/model-1',
      provider: {
        forge: {
          npm: '@ai-sdk/openai-compatible',
          name: 'Forge model gateway',
          options: { baseURL: 'http://gw/v1', apiKey: '{env:FORGE_MODEL_TOKEN}' },
          models: { 'org/model-1': { name: 'org/model-1' } },
        },
      },
    });
    const home = join(root, 'home-d');
    await writeOpenCodeConfig(sessionWithHome(home), { baseUrl: 'http://gw/v1', model: 'm' });
    const dir = join(home, '.config/opencode');
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).dependencies, {
      '@opencode-ai/plugin': '*',
    });
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8'));
    assert.deepEqual(lock.packages[''].dependencies, { '@opencode-ai/plugin': '*' });
    assert.ok((await stat(join(dir, 'node_modules'))).isDirectory());
  });
});

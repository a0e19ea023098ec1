import assert from 'node:assert/strict';
import { chown, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SandboxSession } from '../sandbox/types.js';
import { ensureHomeDir, readHomeFile, sandboxHomePath, writeHomeFile } from './cli-home.js';
import { geminiSettings, writeGeminiSettings } from './gemini-config.js';
import { openCodeConfig, writeOpenCodeConfig } from './opencode-config.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'forge-cli-home-'));
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

describe('files in the home', () => {
  it('creates the directories, reads back, and never leaves the home', async () => {
    const home = join(root, 'home-a');
    const session = sessionWithHome(home);
    const path = await writeHomeFile(session, '.config/tool/config.json', '{}');
    assert.equal(path, join(home, '.config/tool/config.json'));
    assert.equal(await readFile(path, 'utf8'), '{}');
    assert.equal(await readHomeFile(session, '.config/tool/config.json'), '{}');
    assert.equal(await readHomeFile(session, '.config/tool/missing.json'), undefined);
    await assert.rejects(writeHomeFile(session, '../escape.txt', 'x'), TypeError);
    await assert.rejects(readHomeFile(session, '../../etc/passwd'), TypeError);
    await assert.rejects(ensureHomeDir(session, '../out'), TypeError);
    assert.equal(sandboxHomePath(session, '.gemini/settings.json'), '/home/agent/.gemini/settings.json');
  });

  it("hands what it creates to the home's owner (a container user), when the worker is root", async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to chown');
    const home = join(root, 'home-b');
    await mkdir(join(home, '.config'), { recursive: true });
    await chown(home, 1000, 1000);
    const session = sessionWithHome(home);
    await writeHomeFile(session, '.config/opencode/opencode.json', '{}');
    await writeHomeFile(session, '.codex/nested/config.toml', 'a = 1\n');
    for (const created of [
      '.config/opencode',
      '.config/opencode/opencode.json',
      '.codex',
      '.codex/nested',
      '.codex/nested/config.toml',
    ]) {
      assert.equal((await stat(join(home, created))).uid, 1000, created);
    }
    assert.equal((await stat(join(home, '.config'))).uid, 0, 'existing directories are left as they are');
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

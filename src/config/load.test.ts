import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, githubApiBase, loadConfig } from './load.js';

const base = { FORGE_AGENT_COMMAND: 'true' };

test('defaults apply when nothing is set', () => {
  const config = loadConfig({ ...base });
  assert.equal(config.role, 'all');
  assert.equal(config.concurrency, 2);
  assert.equal(config.triggerLabel, 'forge');
  assert.equal(config.taskTtl, 30 * 86_400_000);
  assert.equal(config.redisUrl, 'redis://127.0.0.1:6379');
  assert.deepEqual(config.allowedAgents, ['command']);
  assert.equal(githubApiBase(config), 'https://api.github.com');
});

test('a bad value names the key and the expected form', () => {
  assert.throws(
    () => loadConfig({ ...base, FORGE_CONCURRENCY: 'lots', FORGE_TASK_TTL: 'forever', FORGE_ROLE: 'boss' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /FORGE_CONCURRENCY: expected a whole number from 1 to 64 \(got "lots"\)/);
      assert.match(error.message, /FORGE_TASK_TTL: expected a duration like 90s, 15m, 2h or 7d/);
      assert.match(error.message, /FORGE_ROLE: .*"all".*"web".*"worker"/s);
      return true;
    },
  );
});

test('secrets are never echoed in errors', () => {
  assert.throws(
    () => loadConfig({ ...base, REDIS_URL: 'http://user:hunter2secret@x' }),
    (error: Error) => error.message.includes('REDIS_URL') && !error.message.includes('hunter2secret'),
  );
});

test('YAML file from FORGE_CONFIG, with env winning and unknown keys refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-config-'));
  const file = join(dir, 'forge.yml');
  writeFileSync(file, 'concurrency: 5\ntriggerLabel: ai\nagentCommand: echo hi\n');
  const config = loadConfig({ FORGE_CONFIG: file, FORGE_TRIGGER_LABEL: 'bot' });
  assert.equal(config.concurrency, 5);
  assert.equal(config.triggerLabel, 'bot');
  assert.equal(config.agentCommand, 'echo hi');
  writeFileSync(file, 'concurency: 5\nagentCommand: x\n');
  assert.throws(() => loadConfig({ FORGE_CONFIG: file }), /concurency \(in .*\): unknown setting/);
});

test('GHE_HOST moves the API base to /api/v3', () => {
  const config = loadConfig({ ...base, GHE_HOST: 'ghe.example.com' });
  assert.equal(githubApiBase(config), 'https://ghe.example.com/api/v3');
  assert.equal(
    githubApiBase(loadConfig({ ...base, GHE_HOST: '127.0.0.1:8080', GHE_PROTOCOL: 'http' })),
    'http://127.0.0.1:8080/api/v3',
  );
});

test('the command agent needs its command, except on a web-only process', () => {
  assert.throws(() => loadConfig({}), /FORGE_AGENT_COMMAND: required/);
  assert.equal(loadConfig({ FORGE_ROLE: 'web' }).role, 'web');
});

test('an allowed model agent needs its provider key at the gateway, named by its standard variable', () => {
  assert.throws(
    () => loadConfig({ FORGE_AGENT: 'claude-code', FORGE_ALLOWED_AGENTS: 'codex' }),
    (error: Error) =>
      /ANTHROPIC_API_KEY: required when the `claude-code` agent is allowed/.test(error.message) &&
      /OPENAI_API_KEY: required when the `codex` agent is allowed/.test(error.message) &&
      !/GEMINI_API_KEY/.test(error.message),
  );
  const config = loadConfig({ FORGE_AGENT: 'gemini', GEMINI_API_KEY: 'g-key' });
  assert.deepEqual(config.allowedAgents, ['gemini']);
  assert.equal(loadConfig({ FORGE_ROLE: 'web', FORGE_AGENT: 'codex' }).agent, 'codex');
});

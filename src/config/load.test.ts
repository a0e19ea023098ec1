import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSetupConfig, needsSetup } from '../setup/config.js';
import { ConfigError, configuredForges, githubApiBase, loadConfig } from './load.js';

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

test('forges: GitHub, GitLab or both; a half-configured one names what is missing', () => {
  const github = { APP_ID: '7', PRIVATE_KEY: 'pem', WEBHOOK_SECRET: 's' };
  const gitlab = { GITLAB_TOKEN: 'glpat-x', GITLAB_WEBHOOK_SECRET: 'hook-secret' };
  const only = configuredForges(loadConfig({ ...base, ...gitlab }));
  assert.equal(only.github, undefined);
  assert.deepEqual(only.gitlab, {
    url: 'https://gitlab.com',
    token: 'glpat-x',
    webhookSecret: 'hook-secret',
    limits: { requestsPerMinute: 2000, notesPerMinute: 60 },
  });
  const both = configuredForges(
    loadConfig({ ...base, ...github, ...gitlab, GITLAB_URL: 'https://git.example.com/gitlab/' }),
  );
  assert.equal(both.github?.appId, 7);
  assert.equal(both.gitlab?.url, 'https://git.example.com/gitlab', 'self-managed, with a path prefix');
  const selfManaged = configuredForges(
    loadConfig({ ...base, ...gitlab, GITLAB_REQUESTS_PER_MINUTE: '7200', GITLAB_NOTES_PER_MINUTE: '300' }),
  );
  assert.deepEqual(selfManaged.gitlab?.limits, { requestsPerMinute: 7200, notesPerMinute: 300 });
  assert.deepEqual(Object.keys(configuredForges(loadConfig({ ...base, ...github }))), ['github']);

  const problems = (env: Record<string, string>) => {
    try {
      configuredForges(loadConfig({ ...base, ...env }));
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems;
    }
  };
  assert.match(
    problems({})[0] ?? '',
    /no forge configured: set APP_ID.*or GITLAB_TOKEN and GITLAB_WEBHOOK_SECRET/,
  );
  assert.deepEqual(
    problems({ GITLAB_TOKEN: 'glpat-x' }).map((p) => p.split(':')[0]),
    ['GITLAB_WEBHOOK_SECRET'],
  );
  // GitHub half-configured keeps its own errors, even when GitLab is complete.
  assert.deepEqual(
    problems({ ...gitlab, APP_ID: '7' }).map((p) => p.split(':')[0]),
    ['PRIVATE_KEY or PRIVATE_KEY_PATH', 'WEBHOOK_SECRET'],
  );
  assert.throws(
    () => loadConfig({ ...base, GITLAB_URL: 'gitlab.com' }),
    /GITLAB_URL: expected an absolute URL/,
  );
  assert.throws(
    () => loadConfig({ ...base, GITLAB_URL: 'nope', GITLAB_TOKEN: 'glpat-secret-value' }),
    (error: Error) => !error.message.includes('glpat-secret-value'),
  );
});

test('a GitLab-only Forge starts normally, not in GitHub App setup mode', () => {
  assert.equal(needsSetup(loadSetupConfig({})), true, 'nothing configured: setup mode');
  assert.equal(needsSetup(loadSetupConfig({ GITLAB_TOKEN: 'glpat-x' })), false);
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

test('a Docker sandbox whose network cannot reach the model gateway is refused, naming the key', () => {
  const docker = { FORGE_SANDBOX: 'docker', FORGE_AGENT: 'claude-code', ANTHROPIC_API_KEY: 'sk-ant-x' };
  assert.throws(
    () => loadConfig({ ...docker }),
    /FORGE_SANDBOX_NETWORK: `none` gives agent containers no network, so the `claude-code` agent\(s\) could never reach the model gateway/,
  );
  assert.throws(
    () => loadConfig({ ...docker, FORGE_SANDBOX_NETWORK: 'forge-agents' }),
    /FORGE_GATEWAY_URL: required with FORGE_SANDBOX_NETWORK=forge-agents/,
  );
  const ok = loadConfig({
    ...docker,
    FORGE_SANDBOX_NETWORK: 'forge-agents',
    FORGE_GATEWAY_URL: 'http://172.30.0.2:8089',
  });
  assert.equal(ok.sandboxNetwork, 'forge-agents');
  // The command agent needs no model, and the web role runs no sandbox.
  assert.equal(loadConfig({ ...base, FORGE_SANDBOX: 'docker' }).sandboxNetwork, 'none');
  assert.equal(loadConfig({ ...docker, FORGE_ROLE: 'web' }).role, 'web');
});

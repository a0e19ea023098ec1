import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

/**
 * docker-compose.yml is what operators run; no Compose engine runs here, so its contract is checked
 * statically: every service's environment (with Compose's `${VAR}` / `${VAR:-default}` /
 * `${VAR:?message}` interpolated from an operator's .env) passes Forge's own configuration checks,
 * and the isolation the comments promise is what the file says.
 */
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
});

const dotEnv: Record<string, string> = {
  APP_ID: '12345',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----',
  WEBHOOK_SECRET: 'whsec',
  REDIS_PASSWORD: 'redispw',
  ANTHROPIC_API_KEY: 'sk-ant-operator',
  DOCKER_GID: '998',
};

function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

const environmentOf = (service: string): Record<string, string> => {
  const raw = compose.services[service].environment as Record<string, string | number>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), dotEnv)]));
};

test('the web and worker services start with a valid Forge configuration', () => {
  const web = loadConfig(environmentOf('web'));
  assert.equal(web.role, 'web');
  const worker = loadConfig(environmentOf('worker'));
  assert.equal(worker.role, 'worker');
  assert.equal(worker.sandbox, 'docker');
  assert.equal(worker.sandboxNetwork, compose.networks.agents.name);
  assert.ok(worker.gatewayUrl, 'agents are told where the gateway is');
});

test('agents get an internal network shared only with the worker; only the worker holds the engine socket', () => {
  assert.equal(compose.networks.agents.internal, true);
  assert.ok((compose.services.worker.networks as string[]).includes('agents'));
  for (const name of Object.keys(compose.services).filter((s) => s !== 'worker')) {
    const service = compose.services[name];
    assert.ok(
      !JSON.stringify(service.networks ?? []).includes('agents'),
      `${name} is not on the agents network`,
    );
    assert.ok(!JSON.stringify(service.volumes ?? []).includes('docker.sock'), `${name} has no engine socket`);
  }
  // The gateway URL names the worker on that network, never a loopback address.
  assert.match(environmentOf('worker').FORGE_GATEWAY_URL ?? '', /^http:\/\/worker:\d+$/);
});

test('a missing required secret stops Compose with its message', () => {
  const raw = compose.services.worker.group_add[0] as string;
  assert.throws(() => interpolate(raw, {}), /DOCKER_GID: set DOCKER_GID/);
});

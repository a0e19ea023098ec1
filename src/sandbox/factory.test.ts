import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { DockerSandbox } from './docker/docker-sandbox.js';
import { engineUnreachable } from './docker/errors.js';
import { createSandbox, dockerClient, imageFor } from './factory.js';
import { LocalSandbox } from './local/local-sandbox.js';

const log = pino({ level: 'silent' });

describe('createSandbox', () => {
  test('local by default, docker when FORGE_SANDBOX=docker', () => {
    assert.ok(createSandbox(loadConfig({ FORGE_AGENT_COMMAND: 'true' }), log) instanceof LocalSandbox);
    const docker = createSandbox(
      loadConfig({ FORGE_AGENT_COMMAND: 'true', FORGE_SANDBOX: 'docker', DOCKER_HOST: 'unix:///tmp/x.sock' }),
      log,
    );
    assert.ok(docker instanceof DockerSandbox);
    assert.equal(docker.kind, 'docker');
  });

  test('imageFor: the per-agent image, else FORGE_AGENT_IMAGE', () => {
    const config = loadConfig({
      FORGE_AGENT_COMMAND: 'true',
      FORGE_AGENT_IMAGE: 'registry.example/forge-agent:1',
      FORGE_AGENT_IMAGES: 'codex=registry.example/codex:2,gemini=gem:3',
    });
    assert.equal(imageFor(config, 'codex'), 'registry.example/codex:2');
    assert.equal(imageFor(config, 'gemini'), 'gem:3');
    assert.equal(imageFor(config, 'claude-code'), 'registry.example/forge-agent:1');
    assert.equal(imageFor(loadConfig({ FORGE_AGENT_COMMAND: 'true' }), 'opencode'), 'forge-agent:latest');
  });
});

describe('dockerClient', () => {
  const modem = (d: ReturnType<typeof dockerClient>) =>
    d.modem as unknown as { socketPath?: string; host?: string; port?: string; protocol?: string };

  test('DOCKER_HOST forms', () => {
    assert.equal(modem(dockerClient(undefined, {})).socketPath, '/var/run/docker.sock');
    assert.equal(modem(dockerClient('unix:///run/engine.sock', {})).socketPath, '/run/engine.sock');
    const tcp = modem(dockerClient('tcp://10.0.0.5:2375', {}));
    assert.deepEqual([tcp.host, String(tcp.port), tcp.protocol], ['10.0.0.5', '2375', 'http']);
    const ssh = modem(dockerClient('ssh://ops@engine.example', {}));
    assert.deepEqual([ssh.host, ssh.protocol], ['engine.example', 'ssh']);
    assert.throws(() => dockerClient('ftp://x', {}), /DOCKER_HOST/);
  });

  test('the endpoint in error messages is the one configured', () => {
    assert.match(
      engineUnreachable(dockerClient('tcp://10.0.0.5:2375', {}), {}).message,
      /tcp:\/\/10\.0\.0\.5:2375 \(DOCKER_HOST\)/,
    );
    assert.match(
      engineUnreachable(dockerClient('unix:///run/engine.sock', {}), {}).message,
      /unix:\/\/\/run\/engine\.sock/,
    );
  });
});

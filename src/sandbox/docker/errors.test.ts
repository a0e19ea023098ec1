import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Docker from 'dockerode';
import { SandboxError } from '../types.js';
import { engineEndpoint, startFailed } from './errors.js';

const docker = new Docker({ socketPath: '/run/forge-engine.sock' });

/** The shape docker-modem gives an HTTP error from the engine. */
function engineError(statusCode: number, message: string) {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), {
    statusCode,
    json: { message },
  });
}

describe('startFailed', () => {
  test('connection failures become engine_unreachable naming DOCKER_HOST', () => {
    const error = startFailed(docker, 'img', Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }));
    assert.ok(error instanceof SandboxError);
    assert.equal(error.code, 'engine_unreachable');
    assert.match(
      error.message,
      /unix:\/\/\/run\/forge-engine\.sock \(DOCKER_HOST\) did not answer \(ENOENT\)/,
    );
  });

  test('"No such image" becomes image_missing with the build command', () => {
    const error = startFailed(
      docker,
      'forge-agent:latest',
      engineError(404, 'No such image: forge-agent:latest'),
    );
    assert.equal(error.code, 'image_missing');
    assert.match(error.message, /docker build -f docker\/Dockerfile\.agent -t forge-agent:latest \./);
    assert.match(error.message, /FORGE_AGENT_IMAGE/);
  });

  test('other engine refusals are start_failed with a hint where one helps', () => {
    const network = startFailed(docker, 'img', engineError(404, 'network forge-agents not found'));
    assert.equal(network.code, 'start_failed');
    assert.match(network.message, /network forge-agents not found.*FORGE_SANDBOX_NETWORK/);
    const mount = startFailed(
      docker,
      'img',
      engineError(
        400,
        'invalid mount config for type "bind": bind source path does not exist: /var/lib/forge/x',
      ),
    );
    assert.match(mount.message, /same absolute path on the Docker host/);
    const plain = startFailed(docker, 'img', engineError(500, 'something odd'));
    assert.match(plain.message, /could not be started: something odd$/);
  });

  test('engineEndpoint names tcp engines too', () => {
    assert.equal(
      engineEndpoint(new Docker({ host: '10.1.2.3', port: 2375, protocol: 'http' })),
      'tcp://10.1.2.3:2375',
    );
  });
});

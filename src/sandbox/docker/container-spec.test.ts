import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SandboxError } from '../types.js';
import {
  CONTAINER_HOME,
  CONTAINER_SCRATCH,
  CONTAINER_WORKDIR,
  containerOptions,
  envList,
  parseSandboxUser,
  resolveLimits,
} from './container-spec.js';

const input = () => ({
  name: 'forge-t1-abc',
  image: 'forge-agent:latest',
  spec: {
    checkoutDir: '/w/checkouts/t1/turn-1/checkout',
    homeDir: '/w/homes/t1',
    env: { OPENAI_BASE_URL: 'http://worker:8089/v1', FORGE_TURN_TOKEN: 'tok' },
    labels: { 'forge.task': 't1', 'forge.turn': '1', 'forge.managed': 'spoofed' },
  },
  hostScratchDir: '/w/scratch/forge-scratch-x',
  user: parseSandboxUser('1000:1000'),
  network: 'forge-agents',
  limits: { memoryMb: 2048, cpus: 1.5, pids: 512 },
  nofile: 16384,
  workerId: 'worker-1',
  owner: 'boot/ns/42/99',
  deadline: 1_700_000_000_000,
});

describe('containerOptions', () => {
  test('hardening: non-root, no capabilities, no new privileges, read-only root, limits, no swap', () => {
    const o = containerOptions(input());
    const h = o.HostConfig!;
    assert.equal(o.User, '1000:1000');
    assert.deepEqual(h.CapDrop, ['ALL']);
    assert.equal(h.CapAdd, undefined);
    assert.deepEqual(h.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(h.Privileged, false);
    assert.equal(h.ReadonlyRootfs, true);
    assert.equal(h.Memory, 2048 * 1024 * 1024);
    assert.equal(h.MemorySwap, h.Memory);
    assert.equal(h.NanoCpus, 1_500_000_000);
    assert.equal(h.PidsLimit, 512);
    assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 16384, Hard: 16384 }]);
    assert.equal(h.NetworkMode, 'forge-agents');
    assert.equal(h.Init, true);
    assert.match(String(h.Tmpfs?.['/tmp']), /^rw,nosuid,nodev,size=1024m,mode=1777$/);
    assert.equal(h.Binds, undefined, 'no Binds: only the three explicit mounts');
  });

  test('mounts exactly the checkout, the home and the scratch dir', () => {
    const mounts = containerOptions(input()).HostConfig!.Mounts!;
    assert.deepEqual(
      mounts.map((m) => [m.Type, m.Source, m.Target, m.ReadOnly]),
      [
        ['bind', '/w/checkouts/t1/turn-1/checkout', CONTAINER_WORKDIR, false],
        ['bind', '/w/homes/t1', CONTAINER_HOME, false],
        ['bind', '/w/scratch/forge-scratch-x', CONTAINER_SCRATCH, false],
      ],
    );
  });

  test('environment is exactly the spec plus HOME; our labels cannot be spoofed by the spec', () => {
    const o = containerOptions(input());
    assert.deepEqual(o.Env, [
      'OPENAI_BASE_URL=http://worker:8089/v1',
      'FORGE_TURN_TOKEN=tok',
      `HOME=${CONTAINER_HOME}`,
    ]);
    assert.equal(o.Labels!['forge.managed'], 'true');
    assert.equal(o.Labels!['forge.worker'], 'worker-1');
    assert.equal(o.Labels!['forge.deadline'], '1700000000000');
    assert.equal(o.Labels!['forge.task'], 't1');
    assert.deepEqual([o.Entrypoint, o.Cmd], [['sh', '-c', 'trap "" TERM INT HUP; exec sleep infinity'], []]);
  });

  test('/tmp is at most half the memory limit', () => {
    const o = containerOptions({ ...input(), limits: { memoryMb: 256, cpus: 1, pids: 64 } });
    assert.match(String(o.HostConfig!.Tmpfs?.['/tmp']), /size=128m/);
  });
});

describe('parseSandboxUser', () => {
  test('numeric uid:gid, gid defaults to uid', () => {
    assert.deepEqual(parseSandboxUser('1000:1000'), { uid: 1000, gid: 1000, spec: '1000:1000' });
    assert.deepEqual(parseSandboxUser('1234'), { uid: 1234, gid: 1234, spec: '1234:1234' });
    assert.deepEqual(parseSandboxUser('1000:0'), { uid: 1000, gid: 0, spec: '1000:0' });
  });

  test('root and names are refused with the setting named', () => {
    for (const bad of ['0', '0:0', '0:1000', 'root', 'agent', '', '1000:', '-1']) {
      assert.throws(
        () => parseSandboxUser(bad),
        (e: unknown) =>
          e instanceof SandboxError && e.code === 'invalid_options' && /FORGE_SANDBOX_USER/.test(e.message),
        bad,
      );
    }
  });
});

describe('envList and resolveLimits', () => {
  test('bad names and NUL bytes are caller bugs', () => {
    assert.throws(() => envList({ 'A=B': 'x' }), TypeError);
    assert.throws(() => envList({ '1X': 'x' }), TypeError);
    assert.throws(() => envList({ X: 'a\0b' }), TypeError);
    assert.deepEqual(envList({ X: 'a=b c' }), ['X=a=b c']);
  });

  test('the spec wins field by field over the defaults', () => {
    assert.deepEqual(resolveLimits({ memoryMb: 4096, cpus: 2, pids: 1024 }, { memoryMb: 512 }), {
      memoryMb: 512,
      cpus: 2,
      pids: 1024,
    });
    assert.deepEqual(resolveLimits({}, undefined), { memoryMb: 4096, cpus: 2, pids: 1024 });
  });
});

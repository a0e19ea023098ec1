/**
 * DockerSandbox lifecycle on a real dockerd: timeout, idle timeout and abort stop the container,
 * out-of-memory is reported as such, destroy always removes the container, the reaper removes
 * orphans but never a live turn of another worker, and engine or image problems are typed errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import {
  CONTAINER_WORKDIR,
  containerOptions,
  parseSandboxUser,
} from '../../src/sandbox/docker/container-spec.js';
import { DockerSandbox, type DockerSandboxOptions } from '../../src/sandbox/docker/docker-sandbox.js';
import type { DockerSandboxSession } from '../../src/sandbox/docker/docker-session.js';
import { ownerLabel } from '../../src/sandbox/docker/labels.js';
import { SandboxError, type SandboxSession } from '../../src/sandbox/types.js';
import { useDockerEngine } from '../kit/docker.js';
import { ensureBusyboxImage } from '../kit/docker-images.js';
import { freePort } from '../kit/net.js';
import { collectLines, type SandboxDirs, sandboxDirs } from '../kit/sandbox-dirs.js';

const use = await useDockerEngine();

async function containerState(docker: Docker, id: string): Promise<'running' | 'stopped' | 'gone'> {
  try {
    const info = await docker.getContainer(id).inspect();
    return info.State.Running ? 'running' : 'stopped';
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return 'gone';
    throw error;
  }
}

describe('DockerSandbox lifecycle (real dockerd)', { skip: use.skip }, () => {
  let docker: Docker;
  let image: string;
  let dirs: SandboxDirs;
  const run = randomBytes(3).toString('hex');
  const sessions: SandboxSession[] = [];

  before(async () => {
    docker = use.engine!.docker;
    image = await ensureBusyboxImage(docker);
    dirs = await sandboxDirs('forge-sbx-life-');
  });
  after(async () => {
    for (const s of sessions) await s.destroy().catch(() => undefined);
    await dirs?.cleanup();
  });

  function sandbox(options: Partial<DockerSandboxOptions> = {}): DockerSandbox {
    return new DockerSandbox({
      docker,
      image,
      workerId: `it-life-${run}`,
      scratchRoot: dirs.scratchRoot,
      limits: { memoryMb: 128, pids: 64 },
      killGraceMs: 1_000,
      exitPollMs: 200,
      ...options,
    });
  }

  async function open(sb: DockerSandbox, task: string): Promise<DockerSandboxSession> {
    const session = (await sb.create(await dirs.spec(task))) as DockerSandboxSession;
    sessions.push(session);
    return session;
  }

  test('the wall-clock timeout stops the container; destroy removes it', async () => {
    const session = await open(sandbox(), 'timeout');
    const lines = collectLines();
    const result = await session.exec(['sh', '-c', 'echo started; sleep 60'], {
      timeoutMs: 700,
      onLine: lines.onLine,
    });
    assert.equal(result.end, 'timeout');
    assert.deepEqual(lines.stdout(), ['started']);
    assert.ok(result.durationMs < 30_000);
    assert.equal(await containerState(docker, session.containerId), 'stopped');
    await assert.rejects(
      session.exec(['true'], { onLine: () => {} }),
      (e: unknown) => e instanceof SandboxError && e.code === 'exec_failed',
    );
    await session.destroy();
    assert.equal(await containerState(docker, session.containerId), 'gone');
    assert.equal(existsSync(session.hostScratchDir), false);
    await session.destroy(); // idempotent
  });

  test('the idle timeout fires only after output stops', async () => {
    const session = await open(sandbox(), 'idle');
    const lines = collectLines();
    // Ticks every 0.2 s for ~1.6 s (each tick resets the 800 ms idle timer), then goes quiet.
    const result = await session.exec(
      ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.2; done; sleep 60'],
      {
        idleTimeoutMs: 800,
        timeoutMs: 30_000,
        onLine: lines.onLine,
      },
    );
    assert.equal(result.end, 'idle_timeout');
    assert.equal(lines.stdout().length, 8, 'every tick arrived before the idle timeout fired');
    assert.equal(await containerState(docker, session.containerId), 'stopped');
  });

  test('abort (/forge stop) sends SIGTERM first, then the container is killed', async () => {
    const session = await open(sandbox(), 'abort');
    const abort = new AbortController();
    const script = [
      `trap 'echo stopped-cleanly > ${CONTAINER_WORKDIR}/term.txt; exit 0' TERM`,
      'echo ready',
      'sleep 60 & wait',
    ].join('; ');
    const result = await session.exec(['sh', '-c', script], {
      signal: abort.signal,
      timeoutMs: 30_000,
      onLine: (_s, line) => {
        if (line === 'ready') abort.abort();
      },
    });
    assert.equal(result.end, 'aborted');
    assert.equal(result.exitCode, 0, 'the command ended through its TERM trap, not a kill');
    assert.equal(await containerState(docker, session.containerId), 'stopped');
    const checkout = join(dirs.root, 'checkouts', 'abort');
    const [turn] = readdirSync(checkout);
    assert.equal(await readFile(join(checkout, turn!, 'term.txt'), 'utf8'), 'stopped-cleanly\n');
    // An already-aborted signal never starts a command.
    const again = await (await open(sandbox(), 'abort-early')).exec(['sh', '-c', 'echo no'], {
      signal: AbortSignal.abort(),
      onLine: () => assert.fail('must not run'),
    });
    assert.equal(again.end, 'aborted');
  });

  test('destroy during a running command ends it as aborted and removes the container', async () => {
    const session = await open(sandbox({ killGraceMs: 300 }), 'destroy');
    let ready!: () => void;
    const started = new Promise<void>((r) => {
      ready = r;
    });
    const running = session.exec(['sh', '-c', 'echo ready; sleep 60'], {
      onLine: (_s, line) => line === 'ready' && ready(),
    });
    await started;
    await session.destroy();
    assert.equal((await running).end, 'aborted');
    assert.equal(await containerState(docker, session.containerId), 'gone');
  });

  test('running out of memory is reported as oom', async () => {
    const session = await open(sandbox({ limits: { memoryMb: 64, pids: 64 } }), 'oom');
    const lines = collectLines();
    // /dev/zero has no newline: tail buffers all of it as one line, far past the 64 MiB limit.
    const result = await session.exec(['sh', '-c', 'head -c 400m /dev/zero | tail -n 1 >/dev/null'], {
      timeoutMs: 60_000,
      onLine: lines.onLine,
    });
    assert.equal(result.end, 'oom', JSON.stringify({ result, lines: lines.all }));
    assert.equal(result.exitCode, 137);
    // An ordinary kill -9 of the agent is not mistaken for an out-of-memory kill.
    const killed = await session.exec(['sh', '-c', 'kill -9 $$'], { onLine: () => {} });
    assert.deepEqual([killed.end, killed.exitCode], ['exited', 137]);
  });

  test('the reaper removes orphans and leaves live turns alone', async () => {
    const mine = `it-reap-${run}`;
    // A live turn of another worker, and a turn of a worker that died long ago (deadline passed).
    const live = await open(sandbox({ workerId: `it-other-${run}` }), 'reap-live');
    const expired = await open(sandbox({ workerId: `it-gone-${run}`, maxLifetimeMs: 1 }), 'reap-expired');
    // This worker's previous incarnation left a container behind (it crashed before destroy).
    const before = sandbox({ workerId: mine });
    const leftover = await open(before, 'reap-leftover');
    // Another live process that (misconfigured) shares this worker id: its turn must survive too.
    const twinProcess = spawn('sleep', ['120'], { stdio: 'ignore' });
    const twinSpec = await dirs.spec('reap-twin');
    await mkdir(twinSpec.homeDir, { recursive: true });
    const twin = await docker.createContainer(
      containerOptions({
        name: `forge-reap-twin-${run}`,
        image,
        spec: twinSpec,
        hostScratchDir: dirs.scratchRoot,
        user: parseSandboxUser('1000:1000'),
        network: 'none',
        limits: { memoryMb: 64, cpus: 1, pids: 32 },
        nofile: 1024,
        workerId: mine,
        owner: ownerLabel(twinProcess.pid!),
        deadline: Date.now() + 3_600_000,
      }),
    );
    await twin.start();
    try {
      const restarted = sandbox({ workerId: mine });
      const current = await open(restarted, 'reap-current');
      const removed = await restarted.reapOrphans();
      assert.ok(removed >= 2, `removed ${removed}`);
      assert.equal(await containerState(docker, expired.containerId), 'gone');
      assert.equal(await containerState(docker, leftover.containerId), 'gone');
      assert.equal(existsSync(leftover.hostScratchDir), false, "the orphan's scratch dir is gone too");
      assert.equal(await containerState(docker, live.containerId), 'running');
      assert.equal(await containerState(docker, current.containerId), 'running');
      assert.equal(await containerState(docker, twin.id), 'running');
      // Once the twin process is gone, its container is a leftover of this worker.
      twinProcess.kill('SIGKILL');
      await new Promise((r) => twinProcess.once('exit', r));
      assert.ok((await restarted.reapOrphans()) >= 1);
      assert.equal(await containerState(docker, twin.id), 'gone');
      assert.equal(await containerState(docker, current.containerId), 'running');
      // The old session's destroy after the reaper got there is still fine.
      await leftover.destroy();
    } finally {
      twinProcess.kill('SIGKILL');
      await twin.remove({ force: true }).catch(() => undefined);
    }
  });

  test('an unreachable engine is a typed error naming DOCKER_HOST', async () => {
    const viaSocket = sandbox({ docker: new Docker({ socketPath: '/nonexistent/forge/docker.sock' }) });
    await assert.rejects(viaSocket.create(await dirs.spec('unreachable')), (e: unknown) => {
      assert.ok(e instanceof SandboxError);
      assert.equal(e.code, 'engine_unreachable');
      assert.match(e.message, /unix:\/\/\/nonexistent\/forge\/docker\.sock \(DOCKER_HOST\)/);
      return true;
    });
    await assert.rejects(
      viaSocket.reapOrphans(),
      (e: unknown) => e instanceof SandboxError && e.code === 'engine_unreachable',
    );
    const port = await freePort();
    const viaTcp = sandbox({ docker: new Docker({ host: '127.0.0.1', port, protocol: 'http' }) });
    await assert.rejects(viaTcp.create(await dirs.spec('unreachable-tcp')), (e: unknown) => {
      assert.ok(e instanceof SandboxError && e.code === 'engine_unreachable');
      assert.match(e.message, new RegExp(`tcp://127\\.0\\.0\\.1:${port}`));
      return true;
    });
  });

  test('a missing image is a typed error saying how to build it; the spec image wins', async () => {
    const missing = `forge-test/no-such-agent:${run}`;
    const sb = sandbox({ image: missing });
    const before = readdirSync(dirs.scratchRoot).length;
    await assert.rejects(sb.create(await dirs.spec('no-image')), (e: unknown) => {
      assert.ok(e instanceof SandboxError);
      assert.equal(e.code, 'image_missing');
      assert.match(e.message, new RegExp(missing.replace(/[/.]/g, '\\$&')));
      assert.match(e.message, /docker\/Dockerfile\.agent/);
      assert.match(e.message, /FORGE_AGENT_IMAGE/);
      return true;
    });
    await assert.rejects(sb.check(), (e: unknown) => e instanceof SandboxError && e.code === 'image_missing');
    assert.equal(readdirSync(dirs.scratchRoot).length, before, 'no scratch dir left behind');
    // The caller's per-agent image overrides the default one.
    const session = (await sb.create({ ...(await dirs.spec('spec-image')), image })) as DockerSandboxSession;
    sessions.push(session);
    const info = await docker.getContainer(session.containerId).inspect();
    assert.equal(info.Config.Image, image);
  });

  test('a root sandbox user is refused; a bad network fails to start with a hint', async () => {
    for (const user of ['0', '0:0', 'root', '0:1000']) {
      assert.throws(
        () => sandbox({ user }),
        (e: unknown) =>
          e instanceof SandboxError && e.code === 'invalid_options' && /FORGE_SANDBOX_USER/.test(e.message),
      );
    }
    const sb = sandbox({ network: `no-such-network-${run}` });
    await assert.rejects(sb.create(await dirs.spec('bad-network')), (e: unknown) => {
      assert.ok(e instanceof SandboxError && e.code === 'start_failed', String(e));
      assert.match(e.message, /FORGE_SANDBOX_NETWORK/);
      return true;
    });
  });
});

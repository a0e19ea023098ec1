/**
 * DockerSandbox on a real dockerd: the hardening as the engine records it and as a process inside
 * sees it, the environment (no worker secrets), live output, stdin, and the task's home.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import {
  CONTAINER_HOME,
  CONTAINER_SCRATCH,
  CONTAINER_WORKDIR,
} from '../../src/sandbox/docker/container-spec.js';
import { DockerSandbox } from '../../src/sandbox/docker/docker-sandbox.js';
import type { DockerSandboxSession } from '../../src/sandbox/docker/docker-session.js';
import type { SandboxSession } from '../../src/sandbox/types.js';
import { useDockerEngine } from '../kit/docker.js';
import { ensureBusyboxImage } from '../kit/docker-images.js';
import { collectLines, type SandboxDirs, sandboxDirs } from '../kit/sandbox-dirs.js';

const use = await useDockerEngine();

// Secrets a worker holds in its own environment. None may reach a container.
const WORKER_SECRETS = {
  GITHUB_TOKEN: 'ghs_workerSecretToken0123456789abcdef',
  ANTHROPIC_API_KEY: 'sk-ant-workerSecretKey0123456789',
  WEBHOOK_SECRET: 'whsec-workerSecret0123456789',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----workerSecret',
};

describe('DockerSandbox (real dockerd)', { skip: use.skip }, () => {
  let docker: Docker;
  let image: string;
  let dirs: SandboxDirs;
  let sandbox: DockerSandbox;
  const workerId = `it-sandbox-${randomBytes(3).toString('hex')}`;
  const sessions: SandboxSession[] = [];
  const checkouts = new Map<SandboxSession, string>();
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    docker = use.engine!.docker;
    image = await ensureBusyboxImage(docker);
    dirs = await sandboxDirs();
    for (const [k, v] of Object.entries(WORKER_SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    sandbox = new DockerSandbox({
      docker,
      image,
      workerId,
      scratchRoot: dirs.scratchRoot,
      limits: { memoryMb: 256, cpus: 1.5, pids: 128 },
      nofile: 4096,
    });
  });
  after(async () => {
    for (const s of sessions) await s.destroy();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await dirs?.cleanup();
  });

  async function open(task: string, env: Record<string, string> = {}): Promise<DockerSandboxSession> {
    const spec = await dirs.spec(task, { env });
    const session = (await sandbox.create(spec)) as DockerSandboxSession;
    sessions.push(session);
    checkouts.set(session, spec.checkoutDir);
    return session;
  }

  async function sh(session: SandboxSession, script: string, stdin?: string) {
    const lines = collectLines();
    const result = await session.exec(['sh', '-c', script], {
      onLine: lines.onLine,
      timeoutMs: 30_000,
      ...(stdin !== undefined ? { stdin } : {}),
    });
    return { ...result, out: lines.stdout(), err: lines.stderr() };
  }

  test('the engine records every hardening setting on the container', async () => {
    const session = await open('hardening', { FORGE_TURN_TOKEN: 'turn-token-1' });
    const info = await docker.getContainer(session.containerId).inspect();
    const host = info.HostConfig;
    assert.equal(info.Config.User, '1000:1000');
    assert.equal(info.Config.WorkingDir, CONTAINER_WORKDIR);
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.ok(!host.CapAdd || host.CapAdd.length === 0);
    assert.equal(host.Privileged, false);
    assert.ok(host.SecurityOpt?.includes('no-new-privileges:true'));
    assert.equal(host.ReadonlyRootfs, true);
    assert.match(String(host.Tmpfs?.['/tmp']), /nosuid.*nodev.*size=128m/);
    assert.equal(host.Memory, 256 * 1024 * 1024);
    assert.equal(host.MemorySwap, host.Memory, 'no swap beyond the memory limit');
    assert.equal(host.NanoCpus, 1.5e9);
    assert.equal(host.PidsLimit, 128);
    assert.deepEqual(host.Ulimits, [{ Name: 'nofile', Soft: 4096, Hard: 4096 }]);
    assert.equal(host.NetworkMode, 'none');
    assert.equal(host.Init, true);
    assert.equal(host.IpcMode, 'private');
    // Exactly three bind mounts; never the Docker socket, nothing of the host besides them.
    const mounts = info.Mounts.map((m) => ({
      type: m.Type,
      source: m.Source,
      target: m.Destination,
      rw: m.RW,
    }));
    assert.deepEqual(
      mounts.map((m) => m.target).sort(),
      [CONTAINER_HOME, CONTAINER_SCRATCH, CONTAINER_WORKDIR].sort(),
    );
    assert.ok(mounts.every((m) => m.type === 'bind' && m.rw));
    assert.ok(!mounts.some((m) => /docker\.sock/.test(`${m.source}${m.target}`)));
    assert.equal(mounts.find((m) => m.target === CONTAINER_SCRATCH)?.source, session.hostScratchDir);
    // Labels for the reaper, plus the spec's.
    assert.equal(info.Config.Labels['forge.managed'], 'true');
    assert.equal(info.Config.Labels['forge.worker'], workerId);
    assert.equal(info.Config.Labels['forge.task'], 'hardening');
    assert.ok(Number(info.Config.Labels['forge.deadline']) > Date.now());
    assert.match(info.Config.Labels['forge.owner'] ?? '', new RegExp(`/${process.pid}/`));
  });

  test('inside: uid 1000, no capabilities, no new privileges, read-only root, writable work dirs, limits in effect', async () => {
    const session = await open('inside');
    const { exitCode, out, err } = await sh(
      session,
      [
        'echo "uid=$(id -u) gid=$(id -g)"',
        'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs):" /proc/self/status',
        'touch /rootfs-probe 2>/dev/null && echo root-writable || echo root-readonly',
        'touch /tmp/probe && echo tmp-writable',
        'grep " /tmp " /proc/mounts | cut -d" " -f3',
        `echo w > ${CONTAINER_WORKDIR}/from-container.txt && echo workspace-writable`,
        `echo h > ${CONTAINER_HOME}/.probe && echo home-writable`,
        `echo s > ${CONTAINER_SCRATCH}/probe && echo scratch-writable`,
        'echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
        'echo "pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"',
        'echo "nofile=$(ulimit -n)"',
        'test -e /var/run/docker.sock && echo docker-socket || echo no-docker-socket',
        'echo "home=$HOME pwd=$(pwd)"',
      ].join('; '),
    );
    assert.equal(exitCode, 0, err.join('\n'));
    assert.ok(out.includes('uid=1000 gid=1000'), out.join('\n'));
    for (const cap of ['CapEff', 'CapPrm', 'CapBnd']) {
      assert.ok(out.includes(`${cap}:\t0000000000000000`), `${cap} must be empty:\n${out.join('\n')}`);
    }
    assert.ok(out.includes('NoNewPrivs:\t1'));
    assert.ok(out.includes('root-readonly'));
    assert.ok(out.includes('tmp-writable'));
    assert.ok(out.includes('tmpfs'));
    assert.ok(out.includes('workspace-writable'));
    assert.ok(out.includes('home-writable'));
    assert.ok(out.includes('scratch-writable'));
    assert.ok(out.includes(`mem=${256 * 1024 * 1024}`), out.join('\n'));
    assert.ok(out.includes('pids=128'));
    assert.ok(out.includes('nofile=4096'));
    assert.ok(out.includes('no-docker-socket'));
    assert.ok(out.includes(`home=${CONTAINER_HOME} pwd=${CONTAINER_WORKDIR}`));
    // What the container wrote is on the host, owned by the sandbox user.
    const onHost = join(checkouts.get(session)!, 'from-container.txt');
    assert.equal(await readFile(onHost, 'utf8'), 'w\n');
    assert.equal((await lstat(onHost)).uid, 1000);
    assert.equal((await lstat(join(session.hostScratchDir, 'probe'))).uid, 1000);
  });

  test('the environment holds exactly the spec and exec variables: no worker secret inside', async () => {
    const session = await open('env', {
      GATEWAY_TOKEN: 'per-turn-token',
      OPENAI_BASE_URL: 'http://gw:8089/v1',
    });
    const { exitCode, out } = await sh(session, 'env; echo ---; tr "\\0" "\\n" < /proc/1/environ', undefined);
    assert.equal(exitCode, 0);
    const text = out.join('\n');
    for (const [name, value] of Object.entries(WORKER_SECRETS)) {
      assert.ok(process.env[name] === value, 'the secret is planted in the worker');
      assert.ok(!text.includes(value), `${name}'s value leaked into the container`);
      assert.ok(!new RegExp(`^${name}=`, 'm').test(text), `${name} is set in the container`);
    }
    assert.ok(text.includes('GATEWAY_TOKEN=per-turn-token'));
    assert.ok(text.includes('OPENAI_BASE_URL=http://gw:8089/v1'));
    const names = new Set(
      out
        .slice(0, out.indexOf('---'))
        .map((l) => l.split('=')[0] ?? '')
        .filter(Boolean),
    );
    // Spec variables, HOME, the image's PATH, and what the shell and engine add themselves.
    const allowed = new Set(['GATEWAY_TOKEN', 'OPENAI_BASE_URL', 'HOME', 'PATH', 'HOSTNAME', 'PWD', 'SHLVL']);
    assert.deepEqual(
      [...names].filter((n) => !allowed.has(n)),
      [],
    );
    // The engine's record of the container holds no secret either.
    const info = await docker.getContainer(session.containerId).inspect();
    assert.ok(!JSON.stringify(info.Config.Env).includes('workerSecret'));
    // Exec-only variables reach that command alone.
    const lines = collectLines();
    await session.exec(['sh', '-c', 'echo "only=$EXEC_ONLY"'], {
      env: { EXEC_ONLY: 'yes' },
      onLine: lines.onLine,
    });
    assert.deepEqual(lines.stdout(), ['only=yes']);
    const again = await sh(session, 'echo "only=$EXEC_ONLY"');
    assert.deepEqual(again.out, ['only=']);
  });

  test('output streams live, line by line, stdout apart from stderr', async () => {
    const session = await open('live');
    const lines = collectLines();
    const gate = join(session.hostScratchDir, 'go');
    // The command waits for a file the test writes only after it saw the first line: if output
    // were delivered at the end, this would never finish.
    const result = await session.exec(
      [
        'sh',
        '-c',
        `echo ready; echo warn >&2; while [ ! -e ${CONTAINER_SCRATCH}/go ]; do sleep 0.05; done; echo done`,
      ],
      {
        timeoutMs: 20_000,
        onLine: (stream, line) => {
          lines.onLine(stream, line);
          if (line === 'ready') void writeFile(gate, '');
        },
      },
    );
    assert.deepEqual(result.end, 'exited');
    assert.equal(result.exitCode, 0);
    assert.deepEqual(lines.stdout(), ['ready', 'done']);
    assert.deepEqual(lines.stderr(), ['warn']);
  });

  test('stdin larger than 128 KiB reaches the command whole', async () => {
    const session = await open('stdin');
    const input = `${randomBytes(150 * 1024).toString('base64')}\n`;
    assert.ok(Buffer.byteLength(input) > 128 * 1024);
    const { exitCode, out } = await sh(session, 'sha256sum; wc -c < /dev/null', input);
    assert.equal(exitCode, 0);
    const expected = createHash('sha256').update(input).digest('hex');
    assert.equal(out[0]?.split(/\s+/)[0], expected);
    // Without stdin the command sees none (no hang waiting for input).
    const none = await sh(session, 'cat; echo end');
    assert.deepEqual(none.out, ['end']);
  });

  test("an exec's own line cap lets a long JSON line through whole; the default cap cuts it", async () => {
    const session = await open('long-line');
    // 300 KiB on one line, like an agent's event carrying a whole file.
    const script = 'head -c 307200 /dev/zero | tr "\\0" x; echo';
    const big = collectLines();
    const ran = await session.exec(['sh', '-c', script], {
      onLine: big.onLine,
      timeoutMs: 30_000,
      maxLineBytes: 4 * 1024 * 1024,
    });
    assert.equal(ran.exitCode, 0);
    assert.deepEqual(
      big.stdout().map((l) => l.length),
      [307200],
    );
    const { out } = await sh(session, script);
    assert.equal(out.length, 1);
    assert.ok(out[0]!.length < 70 * 1024, `cut at the default cap (${out[0]!.length})`);
    assert.match(out[0]!, /line truncated/);
  });

  test('the exit code comes back; a missing binary is 127, not an exception', async () => {
    const session = await open('codes');
    assert.equal((await sh(session, 'exit 3')).exitCode, 3);
    const lines = collectLines();
    const missing = await session.exec(['no-such-binary'], { onLine: lines.onLine });
    assert.equal(missing.end, 'exited');
    assert.ok(missing.exitCode === 127 || missing.exitCode === 126, String(missing.exitCode));
  });

  test("the task's home persists across turns; files the host writes into it are the agent's", async () => {
    const first = await open('persist');
    assert.equal(
      (await sh(first, `mkdir -p ${CONTAINER_HOME}/.cli && echo session-1 > ${CONTAINER_HOME}/.cli/s`))
        .exitCode,
      0,
    );
    await first.destroy();
    const second = await open('persist');
    assert.equal(second.hostHomeDir, first.hostHomeDir);
    // A runner writes CLI configuration through hostHomeDir as the worker (root here).
    await mkdir(join(second.hostHomeDir, '.codex'), { recursive: true });
    await writeFile(join(second.hostHomeDir, '.codex', 'config.toml'), 'model = "x"\n');
    const { exitCode, out, err } = await sh(
      second,
      `cat ${CONTAINER_HOME}/.cli/s; echo '# by the cli' >> ${CONTAINER_HOME}/.codex/config.toml && mkdir ${CONTAINER_HOME}/.codex/sessions && echo ok`,
    );
    assert.equal(exitCode, 0, err.join('\n'));
    assert.deepEqual(out, ['session-1', 'ok']);
    assert.match(await readFile(join(second.hostHomeDir, '.codex', 'config.toml'), 'utf8'), /by the cli/);
  });
});

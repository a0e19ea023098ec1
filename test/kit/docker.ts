/**
 * A real Docker engine for tests: one private dockerd per machine, shared by every test process
 * and every worktree (they share `.cache`). Its data root lives under `.cache/docker`, so imported
 * and built images survive between runs; its sockets live under a short /run path (unix socket
 * paths are limited to 108 bytes). The first process that needs it starts it under a lock; the
 * others reuse it while its socket answers. It is left running on purpose (images stay warm);
 * `stopDockerEngine()` stops it.
 *
 * Started as the runbook says: no bridge (containers get network `none` or `host`, never a
 * private-range bridge), no iptables, overlay2, and the machine's hard open-files limit.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { commandExists, ensureCommand, isCI } from './require.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface TestDockerEngine {
  /** `unix:///run/forge-docker-…/docker.sock`: what DOCKER_HOST would be. */
  host: string;
  socketPath: string;
  docker: Docker;
}

interface EnginePaths {
  cacheDir: string;
  dataRoot: string;
  runDir: string;
  execRoot: string;
  socketPath: string;
  pidFile: string;
  logFile: string;
  lockDir: string;
  namespace: string;
}

export function enginePaths(): EnginePaths {
  mkdirSync(join(root, '.cache'), { recursive: true });
  // The real path: worktrees reach the same .cache through a symlink and must find one engine.
  const cacheDir = realpathSync(join(root, '.cache'));
  const id = createHash('sha256').update(cacheDir).digest('hex').slice(0, 10);
  const runDir = `/run/forge-docker-${id}`;
  return {
    cacheDir,
    dataRoot: join(cacheDir, 'docker', 'data-root'),
    runDir,
    execRoot: join(runDir, 'exec'),
    socketPath: join(runDir, 'docker.sock'),
    pidFile: join(runDir, 'dockerd.pid'),
    logFile: join(cacheDir, 'docker', 'dockerd.log'),
    lockDir: join(runDir, 'start.lock'),
    // A system containerd, if one runs, is shared with any other dockerd: keep our objects apart.
    namespace: `forge-test-${id}`,
  };
}

/** GET /_ping on the socket: true when the engine answers OK. */
export function pingSocket(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(false));
    req.end();
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only ever signal a pid that is still a dockerd: after a reboot the pidfile's number may be reused. */
function isDockerd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd';
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A mkdir lock holding its owner's pid; a lock whose owner died is broken. */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>, timeoutMs = 5 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'owner'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readPid(join(lockDir, 'owner'));
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((owner !== undefined && !pidAlive(owner)) || (owner === undefined && age > 10_000)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockDir}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  while (pidAlive(pid)) await sleep(50);
}

async function startDaemon(paths: EnginePaths): Promise<void> {
  const stale = readPid(paths.pidFile);
  if (stale !== undefined && isDockerd(stale)) {
    // Our pidfile, a live dockerd, but no answer: wedged (or still starting after a crash).
    for (let i = 0; i < 50 && !(await pingSocket(paths.socketPath)); i++) await sleep(200);
    if (await pingSocket(paths.socketPath)) return;
    await stopPid(stale);
  }
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.socketPath, { force: true });
  mkdirSync(paths.dataRoot, { recursive: true });
  mkdirSync(paths.execRoot, { recursive: true });
  // Only the lock holder starts the engine: a fresh log per start keeps it small.
  const log = openSync(paths.logFile, 'w');
  const args = [
    '--data-root',
    paths.dataRoot,
    '--exec-root',
    paths.execRoot,
    '--pidfile',
    paths.pidFile,
    '-H',
    `unix://${paths.socketPath}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--storage-driver=overlay2',
    '--default-ulimit',
    'nofile=20000:20000',
    '--containerd-namespace',
    paths.namespace,
    '--containerd-plugins-namespace',
    `${paths.namespace}-plugins`,
  ];
  // Detached into its own session: the engine outlives this test process on purpose.
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `dockerd exited (${signal ?? `code ${code}`})`;
  });
  child.once('error', (error) => {
    exited = `could not start dockerd: ${error.message}`;
  });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (!(await pingSocket(paths.socketPath))) {
    if (exited)
      throw new Error(`${exited} before answering on ${paths.socketPath}:\n${logTail(paths.logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `dockerd did not answer on ${paths.socketPath} within 60 s:\n${logTail(paths.logFile)}`,
      );
    }
    await sleep(100);
  }
}

let starting: Promise<TestDockerEngine> | undefined;

/**
 * The machine's test engine, started if needed. Throws with the reason when it cannot run
 * (not root, no dockerd and no apt-get, or dockerd failing to start).
 */
export function startDockerEngine(): Promise<TestDockerEngine> {
  starting ??= (async () => {
    const paths = enginePaths();
    if (!(await pingSocket(paths.socketPath))) {
      if (process.getuid?.() !== 0) {
        throw new Error('the test Docker engine needs root (dockerd runs as root on a private socket)');
      }
      await ensureCommand('dockerd', 'docker.io');
      mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
      mkdirSync(join(paths.cacheDir, 'docker'), { recursive: true });
      await withLock(paths.lockDir, async () => {
        if (await pingSocket(paths.socketPath)) return;
        await startDaemon(paths);
        // A fresh daemon runs nothing: agent containers left by crashed test runs are dead weight.
        await new Docker({ socketPath: paths.socketPath })
          .pruneContainers({ filters: { label: ['forge.managed=true'] } })
          .catch(() => undefined);
      });
    }
    return {
      host: `unix://${paths.socketPath}`,
      socketPath: paths.socketPath,
      docker: new Docker({ socketPath: paths.socketPath }),
    };
  })();
  starting.catch(() => {
    starting = undefined;
  });
  return starting;
}

export type DockerEngineUse =
  | { skip: false; engine: TestDockerEngine }
  | { skip: string; engine?: undefined };

/**
 * For test files: `const use = await useDockerEngine(); describe('…', { skip: use.skip }, …)`.
 * Under CI=true nothing is skipped: a missing or broken engine throws and fails the file. On a
 * developer machine it skips with the reason only when dockerd cannot be had at all (not root, or
 * no dockerd and no apt-get); an engine that is installed but fails to start is a failure.
 */
export async function useDockerEngine(): Promise<DockerEngineUse> {
  if (!isCI()) {
    const installable = process.getuid?.() === 0 && (await commandExists('apt-get'));
    if (!(await pingSocket(enginePaths().socketPath)) && !installable && !(await commandExists('dockerd'))) {
      return {
        skip: 'dockerd is missing and cannot be installed here; apt-get install -y docker.io (as root)',
      };
    }
    if (process.getuid?.() !== 0 && !(await pingSocket(enginePaths().socketPath))) {
      return { skip: 'the test Docker engine needs root to start dockerd; run the tests as root' };
    }
  }
  return { skip: false, engine: await startDockerEngine() };
}

/** Stops the machine's test engine (for scripts and manual clean-up; tests leave it running). */
export async function stopDockerEngine(): Promise<void> {
  const paths = enginePaths();
  const pid = readPid(paths.pidFile);
  if (pid !== undefined && isDockerd(pid)) await stopPid(pid);
}

import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from './net.js';
import { commandExists, ensureCommand } from './require.js';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, for ioredis / BullMQ connections. */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

// A forgotten stop() or a failing test must not leave redis-server behind: kill whatever is
// still running when this process exits. (setpriv's parent-death signal covers SIGKILL of us.)
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Resolves when redis answers PING on the port; rejects if `failed()` says it died meanwhile. */
async function waitForPing(
  port: number,
  failed: () => string | undefined,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why !== undefined) throw new Error(why);
    if (await ping(port)) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One raw RESP PING, so waiting needs no client library and logs no reconnect noise. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function startOnce(port: number, useSetpriv: boolean): Promise<RedisServer> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    // BullMQ refuses to lose jobs silently; this is also the production setting.
    '--maxmemory-policy',
    'noeviction',
    '--dir',
    tmpdir(),
  ];
  // setpriv (util-linux) sets PR_SET_PDEATHSIG and then execs redis-server, so the kernel kills
  // redis even if this test process is SIGKILLed and never runs its exit hook.
  const child = useSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', 'redis-server', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  installExitHook();

  // Keep only the tail of redis's log, for error messages; reading it also keeps the pipe from
  // filling up and blocking redis.
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exited = `redis-server exited (${signal ?? `code ${code}`}) before answering PING:\n${log}`;
      resolve();
    });
    child.once('error', (error) => {
      running.delete(child);
      exited = `could not start redis-server: ${error.message}`;
      resolve();
    });
  });

  try {
    await waitForPing(port, () => exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  // Don't let a forgotten stop() keep the test process alive; the exit hook still kills it.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();

  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        if (exited !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitedPromise;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/**
 * Starts a private, empty, non-persistent redis-server on a free loopback port and resolves once
 * it answers PING. Installs the Debian package when root and it is missing (see ensureCommand).
 */
export async function startRedis(): Promise<RedisServer> {
  await ensureCommand('redis-server', 'redis-server');
  const useSetpriv = await commandExists('setpriv');
  let lastError: unknown;
  // freePort() can race with another process taking the port: retry on a fresh one.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(await freePort(), useSetpriv);
    } catch (error) {
      lastError = error;
      if (!String((error as Error).message).includes('Address already in use')) throw error;
    }
  }
  throw lastError;
}

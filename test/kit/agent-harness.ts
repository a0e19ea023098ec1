/**
 * Runs Forge's runner of a real agent CLI (from .cache/agent-clis) in the LocalSandbox against the
 * fake model: git checkouts in a temporary directory, one per-task home kept across turns,
 * ModelAccess pointing straight at the fake model with a fresh token per turn, and an egress proxy
 * that refuses and records every connection (as ctx.model.proxyUrl), so a test can prove the CLI
 * talked to nothing but the model. Every exec the runner makes is recorded (argv, env, stdin), and
 * so are the model requests of each turn.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type {
  AgentEvent,
  AgentResult,
  AgentRunInput,
  AgentRunner,
  ModelAccess,
} from '../../src/agents/types.js';
import { DEFAULT_PATH, LocalSandbox } from '../../src/sandbox/local/local-sandbox.js';
import type { SandboxSession } from '../../src/sandbox/types.js';
import { type CliName, installAgentClis } from './agent-clis.js';
import { type FakeModel, startFakeModel } from './fake-model/server.js';
import type { ProtocolModule, RecordedRequest } from './fake-model/types.js';

const run = promisify(execFile);

export interface RecordedExec {
  argv: string[];
  env: Record<string, string>;
  stdin: string | undefined;
}

export interface Turn {
  result: AgentResult;
  events: AgentEvent[];
  /** Every output line, in order, with its stream. */
  lines: Array<['stdout' | 'stderr', string]>;
  stdout: string[];
  stderr: string[];
  execs: RecordedExec[];
  /** The fake model's requests during the turn. */
  requests: RecordedRequest[];
  token: string;
  /** The environment the sandbox gave every command of the turn. */
  sessionEnv: Record<string, string>;
  checkoutDir: string;
}

export interface TurnOptions {
  checkoutDir?: string;
  model?: Partial<ModelAccess>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AgentHarness {
  fake: FakeModel;
  root: string;
  homeDir: string;
  /** The egress proxy every turn gets; it refuses everything. */
  proxyUrl: string;
  /** What the egress proxy was asked ("CONNECT host:443", "GET http://…"). */
  egress: string[];
  /** A new git checkout with these files committed. */
  checkout(files?: Record<string, string>): Promise<string>;
  /** A copy of a checkout at a new path, as Forge's next turn gets the pushed work at a new path. */
  nextCheckout(from: string): Promise<string>;
  runTurn(
    agent: AgentRunner,
    input: Partial<AgentRunInput> & { prompt: string },
    options?: TurnOptions,
  ): Promise<Turn>;
  close(): Promise<void>;
}

export async function startAgentHarness(options: {
  cli: CliName;
  protocols: ProtocolModule[];
  label: string;
}): Promise<AgentHarness> {
  const clis = await installAgentClis();
  const fake = await startFakeModel({ protocols: options.protocols });
  const root = await mkdtemp(join(tmpdir(), `forge-${options.label}-`));
  const homeDir = join(root, 'home');
  const egress: string[] = [];
  const proxy = await startRefusingProxy(egress);
  const sandbox = new LocalSandbox({
    scratchRoot: join(root, 'scratch'),
    killGraceMs: 500,
    drainGraceMs: 500,
  });
  // The CLI's bin directory first, as in an agent image with the CLI on PATH.
  const path = [dirname(clis.bin(options.cli)), DEFAULT_PATH].join(delimiter);
  let checkouts = 0;

  const harness: AgentHarness = {
    fake,
    root,
    homeDir,
    proxyUrl: proxy.url,
    egress,
    async checkout(files = {}) {
      const dir = join(root, `checkout-${++checkouts}`);
      await mkdir(dir, { recursive: true });
      await git(dir, 'init', '-q', '-b', 'main');
      for (const [name, content] of Object.entries({ 'README.md': '# Project\n', ...files })) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), content);
      }
      await git(dir, 'add', '-A');
      await git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init');
      return dir;
    },
    async nextCheckout(from) {
      const dir = join(root, `checkout-${++checkouts}`);
      await cp(from, dir, { recursive: true });
      return dir;
    },
    async runTurn(agent, input, turnOptions = {}) {
      const checkoutDir = turnOptions.checkoutDir ?? (await harness.checkout());
      const token = `forge-turn-${randomBytes(12).toString('hex')}`;
      const sessionEnv = { PATH: path, LANG: 'C.UTF-8' };
      const session = await sandbox.create({ checkoutDir, homeDir, env: sessionEnv, labels: {} });
      const execs: RecordedExec[] = [];
      const events: AgentEvent[] = [];
      const lines: Turn['lines'] = [];
      const firstRequest = fake.requests.length;
      try {
        const result = await agent.run(
          { taskId: 'task-1', ...input },
          {
            session: recordExecs(session, execs),
            model: {
              anthropicBaseUrl: fake.url,
              openaiBaseUrl: `${fake.url}/v1`,
              geminiBaseUrl: fake.url,
              token,
              proxyUrl: proxy.url,
              ...turnOptions.model,
            },
            signal: turnOptions.signal ?? new AbortController().signal,
            timeoutMs: turnOptions.timeoutMs ?? 240_000,
            idleTimeoutMs: 120_000,
            onLine: (stream, line) => lines.push([stream, line]),
            onEvent: (event) => events.push(event),
          },
        );
        const of = (wanted: string) => lines.filter(([stream]) => stream === wanted).map(([, line]) => line);
        return {
          result,
          events,
          lines,
          stdout: of('stdout'),
          stderr: of('stderr'),
          execs,
          requests: fake.requests.slice(firstRequest),
          token,
          sessionEnv,
          checkoutDir,
        };
      } finally {
        await session.destroy();
      }
    },
    async close() {
      killStrays(root);
      await fake.close();
      await new Promise<void>((resolve) => {
        proxy.server.closeAllConnections();
        proxy.server.close(() => resolve());
      });
      await rm(root, { recursive: true, force: true });
    },
  };
  return harness;
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  return stdout;
}

/**
 * A model API that answers every request with `status` and `body` (e.g. a refused key), in the
 * provider's JSON error shape.
 */
export async function startRefusingModel(
  status: number,
  body: unknown,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A safety net for a failing test: kills what is still running in our checkouts (the sandbox stops
 * everything a turn started; the cancel tests prove it), so no stray outlives the test file.
 */
function killStrays(root: string): void {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (cwd === root || cwd.startsWith(`${root}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

function recordExecs(session: SandboxSession, execs: RecordedExec[]): SandboxSession {
  return {
    workdir: session.workdir,
    homeDir: session.homeDir,
    hostHomeDir: session.hostHomeDir,
    scratchDir: session.scratchDir,
    hostScratchDir: session.hostScratchDir,
    exec(argv, options) {
      execs.push({ argv: [...argv], env: { ...options.env }, stdin: options.stdin });
      return session.exec(argv, options);
    },
    destroy: () => session.destroy(),
  };
}

/** An HTTP proxy on loopback that answers 403 to everything and notes what was asked. */
async function startRefusingProxy(seen: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(403).end('blocked by the test proxy');
  });
  server.on('connect', (req, socket) => {
    socket.on('error', () => {});
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

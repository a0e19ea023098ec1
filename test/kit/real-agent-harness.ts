/**
 * Runs Forge's runner of a real agent CLI (from .cache/agent-clis) in the LocalSandbox against the
 * fake model: git checkouts in a temporary directory, one per-task home kept across turns,
 * ModelAccess pointing straight at the fake model with a fresh token per turn, and an egress proxy
 * that refuses and records every connection (as ctx.model.proxyUrl), so a test can prove the CLI
 * talked to nothing but the model. Every exec the runner makes is recorded (argv, env, stdin).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import type { ProtocolModule } from './fake-model/types.js';

const git = promisify(execFile);

export interface RecordedExec {
  argv: string[];
  env: Record<string, string>;
  stdin: string | undefined;
}

export interface Turn {
  result: AgentResult;
  events: AgentEvent[];
  stdout: string[];
  stderr: string[];
  execs: RecordedExec[];
  token: string;
  /** The environment the sandbox gave every command of the turn. */
  sessionEnv: Record<string, string>;
  checkoutDir: string;
}

export interface AgentHarness {
  fake: FakeModel;
  root: string;
  homeDir: string;
  /** What the egress proxy refused ("CONNECT host:443", "GET http://…"). */
  egress: string[];
  /** A new git checkout with these files committed. */
  checkout(files?: Record<string, string>): Promise<string>;
  /** A clone of a checkout at a new path, as Forge's next turn gets one. */
  cloneCheckout(from: string): Promise<string>;
  runTurn(
    agent: AgentRunner,
    input: Partial<AgentRunInput> & { prompt: string },
    options?: {
      checkoutDir?: string;
      model?: Partial<ModelAccess>;
      timeoutMs?: number;
      signal?: AbortSignal;
    },
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
    egress,
    async checkout(files = {}) {
      const dir = join(root, `checkout-${++checkouts}`);
      await mkdir(dir, { recursive: true });
      await git('git', ['init', '-q', '-b', 'main', dir]);
      for (const [name, content] of Object.entries({ 'README.md': '# Project\n', ...files })) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), content);
      }
      await git('git', ['-C', dir, 'add', '-A']);
      await git('git', [
        '-C',
        dir,
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@example.com',
        'commit',
        '-qm',
        'init',
      ]);
      return dir;
    },
    async cloneCheckout(from) {
      const dir = join(root, `checkout-${++checkouts}`);
      await git('git', ['clone', '-q', from, dir]);
      return dir;
    },
    async runTurn(agent, input, turnOptions = {}) {
      const checkoutDir = turnOptions.checkoutDir ?? (await harness.checkout());
      const token = `forge-turn-${randomBytes(12).toString('hex')}`;
      const sessionEnv = { PATH: path, LANG: 'C.UTF-8' };
      const session = await sandbox.create({ checkoutDir, homeDir, env: sessionEnv, labels: {} });
      const execs: RecordedExec[] = [];
      const recording = recordExecs(session, execs);
      const events: AgentEvent[] = [];
      const stdout: string[] = [];
      const stderr: string[] = [];
      try {
        const result = await agent.run(
          { taskId: 'task-1', ...input },
          {
            session: recording,
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
            onLine: (stream, line) => (stream === 'stdout' ? stdout : stderr).push(line),
            onEvent: (event) => events.push(event),
          },
        );
        return { result, events, stdout, stderr, execs, token, sessionEnv, checkoutDir };
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

/**
 * Kills what is left running in our checkouts: the CLIs start tool commands in process groups of
 * their own, which outlive the LocalSandbox's process-group kill when a turn is cancelled.
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

/**
 * Running a real agent CLI runner (Claude Code, Codex) in the LocalSandbox for tests: a temporary
 * git checkout per turn, a per-task home kept across turns, ModelAccess pointing straight at the
 * fake model with a random per-turn token, and a recording of every exec the runner made (argv,
 * env, stdin) so tests can check how the CLI was invoked and where the token went.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
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
import type { ExecOptions, ExecResult, SandboxSession } from '../../src/sandbox/types.js';
import { type CliName, installAgentClis } from './agent-clis.js';

const run = promisify(execFile);

export interface RecordedExec {
  argv: string[];
  env: Record<string, string>;
  stdin: string | undefined;
}

export interface TurnRun {
  result: AgentResult;
  events: AgentEvent[];
  lines: Array<['stdout' | 'stderr', string]>;
  execs: RecordedExec[];
  token: string;
  checkoutDir: string;
  /** The session's env (what the sandbox gives every command). */
  sessionEnv: Record<string, string>;
}

export interface Harness {
  root: string;
  homeDir: string;
  /** A fresh checkout (git repository) with these files committed. */
  checkout(files?: Record<string, string>): Promise<string>;
  /** Copies a checkout to a new directory, as Forge's next turn gets a new checkout path. */
  nextCheckout(from: string): Promise<string>;
  runTurn(
    agent: AgentRunner,
    input: Partial<AgentRunInput> & { prompt: string },
    options?: { checkoutDir?: string; model?: Partial<ModelAccess> },
  ): Promise<TurnRun>;
  close(): Promise<void>;
}

export async function startHarness(options: {
  cli: CliName;
  modelUrl: string;
  label: string;
}): Promise<Harness> {
  const clis = await installAgentClis();
  const root = await mkdtemp(join(tmpdir(), `forge-${options.label}-`));
  const homeDir = join(root, 'home');
  const sandbox = new LocalSandbox({
    scratchRoot: join(root, 'scratch'),
    killGraceMs: 500,
    drainGraceMs: 500,
  });
  // The CLI's bin dir first, as an agent image has the CLI on PATH.
  const path = [dirname(clis.bin(options.cli)), DEFAULT_PATH].join(delimiter);
  let checkouts = 0;

  const harness: Harness = {
    root,
    homeDir,
    async checkout(files = {}) {
      const dir = join(root, `checkout-${++checkouts}`);
      await mkdir(dir, { recursive: true });
      for (const [name, content] of Object.entries({ 'README.md': '# demo\n', ...files })) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), content);
      }
      await git(dir, 'init', '-q', '-b', 'main');
      await git(dir, 'add', '-A');
      await git(
        dir,
        '-c',
        'user.name=Forge Test',
        '-c',
        'user.email=test@forge.invalid',
        'commit',
        '-q',
        '-m',
        'init',
      );
      return dir;
    },
    async nextCheckout(from) {
      const dir = join(root, `checkout-${++checkouts}`);
      await cp(from, dir, { recursive: true });
      return dir;
    },
    async runTurn(agent, input, runOptions = {}) {
      const checkoutDir = runOptions.checkoutDir ?? (await harness.checkout());
      const token = `forge-turn-${randomBytes(12).toString('hex')}`;
      const sessionEnv = { PATH: path, LANG: 'C.UTF-8' };
      const session = await sandbox.create({ checkoutDir, homeDir, env: sessionEnv, labels: {} });
      const execs: RecordedExec[] = [];
      const recording: SandboxSession = {
        workdir: session.workdir,
        homeDir: session.homeDir,
        hostHomeDir: session.hostHomeDir,
        scratchDir: session.scratchDir,
        hostScratchDir: session.hostScratchDir,
        exec(argv: string[], execOptions: ExecOptions): Promise<ExecResult> {
          execs.push({ argv: [...argv], env: { ...execOptions.env }, stdin: execOptions.stdin });
          return session.exec(argv, execOptions);
        },
        destroy: () => session.destroy(),
      };
      const events: AgentEvent[] = [];
      const lines: TurnRun['lines'] = [];
      const model: ModelAccess = {
        anthropicBaseUrl: options.modelUrl,
        openaiBaseUrl: `${options.modelUrl}/v1`,
        geminiBaseUrl: options.modelUrl,
        token,
        ...runOptions.model,
      };
      try {
        const result = await agent.run(
          { taskId: 'task-1', ...input },
          {
            session: recording,
            model,
            signal: new AbortController().signal,
            timeoutMs: 180_000,
            idleTimeoutMs: 120_000,
            onLine: (stream, line) => lines.push([stream, line]),
            onEvent: (event) => events.push(event),
          },
        );
        return { result, events, lines, execs, token, checkoutDir, sessionEnv };
      } finally {
        await recording.destroy();
      }
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
  return harness;
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  return stdout;
}

/** Paths (relative to `dir`) of every regular file under it whose content includes `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && (await readFile(path)).includes(needle))
        found.push(path.slice(dir.length + 1));
    }
  };
  await walk(dir);
  return found;
}

/** `git status --porcelain` of a checkout, untracked files listed one by one. */
export async function changedFiles(checkoutDir: string): Promise<string[]> {
  const out = await git(checkoutDir, 'status', '--porcelain', '--untracked-files=all');
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3))
    .sort();
}

/**
 * A stand-in for the egress proxy that refuses everything and records what was asked of it (the
 * first line of each connection, e.g. `CONNECT github.com:443 HTTP/1.1`).
 */
export async function startRefusingProxy(): Promise<{
  url: string;
  requests: string[];
  close(): Promise<void>;
}> {
  const requests: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('data', (data) => {
      requests.push(data.toString('latin1').split('\r\n')[0] ?? '');
      socket.destroy();
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

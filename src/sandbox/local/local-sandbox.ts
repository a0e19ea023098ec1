/**
 * Runs agents directly on the host, in the turn's checkout. For development and tests only: there is
 * no isolation beyond a scrubbed environment and cleanup of what the commands started (their process
 * groups, and every process carrying the exec's tag; Forge warns at start-up).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_LINE_BYTES, ExecOutput } from '../lines.js';
import type { ExecEnd, ExecOptions, ExecResult, Sandbox, SandboxSession, SandboxSpec } from '../types.js';
import { groupAlive, signalGroup, terminateGroup } from './process-group.js';
import { EXEC_TAG_VAR, terminateTagged } from './process-tag.js';

export interface LocalSandboxOptions {
  /** Parent of the per-turn scratch directories; defaults to the OS temp dir. */
  scratchRoot?: string;
  /** Time between SIGTERM and SIGKILL when a command is stopped. */
  killGraceMs?: number;
  /**
   * How long to keep reading output after the command itself exited. A background child that
   * inherited stdout would otherwise keep the pipe — and the exec — open forever.
   */
  drainGraceMs?: number;
  /** Longer output lines are truncated (see LineSplitter), unless an exec asks for another cap. */
  maxLineBytes?: number;
}

type ResolvedOptions = Required<LocalSandboxOptions>;

/**
 * PATH used when the spec's env has none. Includes the directory of the running node binary so
 * node-based agent CLIs work in development setups (nvm, volta) without leaking Forge's own PATH.
 */
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
export const DEFAULT_PATH = [...new Set([dirname(process.execPath), ...SYSTEM_PATH])].join(delimiter);

export class LocalSandbox implements Sandbox {
  readonly kind = 'local' as const;
  readonly #options: ResolvedOptions;

  constructor(options: LocalSandboxOptions = {}) {
    this.#options = {
      scratchRoot: options.scratchRoot ?? tmpdir(),
      killGraceMs: options.killGraceMs ?? 2_000,
      drainGraceMs: options.drainGraceMs ?? 2_000,
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    };
  }

  async create(spec: SandboxSpec): Promise<SandboxSession> {
    await mkdir(spec.homeDir, { recursive: true });
    await mkdir(this.#options.scratchRoot, { recursive: true });
    const scratchDir = await mkdtemp(join(this.#options.scratchRoot, 'forge-scratch-'));
    return new LocalSandboxSession(spec, scratchDir, this.#options);
  }

  /** Local commands are children of the worker and die with it; nothing survives a crash to reap. */
  async reapOrphans(): Promise<number> {
    return 0;
  }
}

interface RunningExec {
  stop(reason: ExecEnd): void;
  /** Settles (never rejects) once the exec finished. */
  done: Promise<void>;
}

export class LocalSandboxSession implements SandboxSession {
  readonly workdir: string;
  readonly homeDir: string;
  readonly hostHomeDir: string;
  readonly scratchDir: string;
  readonly hostScratchDir: string;
  readonly #env: Record<string, string>;
  readonly #options: ResolvedOptions;
  /** Process groups we started that may still have members (background jobs outlive their exec). */
  readonly #groups = new Set<number>();
  readonly #running = new Set<RunningExec>();
  /** Each exec's EXEC_TAG_VAR is `<this>.<n>`: stopping an exec or the session finds its processes. */
  readonly #tag = randomBytes(8).toString('hex');
  #execs = 0;
  #destroyed: Promise<void> | undefined;

  constructor(spec: SandboxSpec, scratchDir: string, options: ResolvedOptions) {
    this.workdir = spec.checkoutDir;
    this.homeDir = spec.homeDir;
    this.hostHomeDir = spec.homeDir;
    this.scratchDir = scratchDir;
    this.hostScratchDir = scratchDir;
    this.#env = { ...spec.env };
    this.#options = options;
  }

  exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
    if (this.#destroyed) return Promise.reject(new Error('exec() called on a destroyed sandbox session'));
    const [command, ...args] = argv;
    if (!command) return Promise.reject(new TypeError('exec() needs a non-empty argv'));

    const started = performance.now();
    const result = (exitCode: number | null, end: ExecEnd): ExecResult => ({
      exitCode,
      end,
      durationMs: Math.round(performance.now() - started),
    });
    if (options.signal?.aborted) return Promise.resolve(result(null, 'aborted'));

    // Exactly the spec's env plus this command's: Forge's own environment holds the forge token.
    const tag = `${this.#tag}.${++this.#execs}`;
    const env: Record<string, string> = {
      ...this.#env,
      ...options.env,
      HOME: this.homeDir,
      [EXEC_TAG_VAR]: tag,
    };
    if (!env.PATH) env.PATH = DEFAULT_PATH;

    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: this.workdir,
        env,
        detached: true,
        stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Invalid arguments (e.g. a NUL byte in an env value): a caller bug, reported asynchronously.
      return Promise.reject(error);
    }

    let settle!: (value: ExecResult | Error) => void;
    const promise = new Promise<ExecResult>((resolve, reject) => {
      settle = (value) => (value instanceof Error ? reject(value) : resolve(value));
    });
    const running = this.#watch(child, tag, options, (exitCode, end, listenerError) =>
      settle(listenerError ?? result(exitCode, end)),
    );
    this.#running.add(running);
    void running.done.then(() => this.#running.delete(running));
    return promise;
  }

  #watch(
    child: ChildProcess,
    tag: string,
    options: ExecOptions,
    onDone: (exitCode: number | null, end: ExecEnd, listenerError?: Error) => void,
  ): RunningExec {
    const { killGraceMs, drainGraceMs } = this.#options;
    const maxLineBytes = options.maxLineBytes ?? this.#options.maxLineBytes;
    const pgid = child.pid;
    if (pgid !== undefined) this.#groups.add(pgid);

    let end: ExecEnd | undefined;
    let exited = false;
    let exitCode: number | null = null;
    let finished = false;
    let wallTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let markDone!: () => void;
    const done = new Promise<void>((resolve) => {
      markDone = resolve;
    });

    const output = new ExecOutput(options.onLine, maxLineBytes, () => stop('aborted'));

    // Processes of this exec outside its group (a CLI's tool commands): stopped with it.
    let strays: Promise<unknown> | undefined;
    const stop = (reason: ExecEnd): void => {
      if (end !== undefined || exited || pgid === undefined) return;
      end = reason;
      signalGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), killGraceMs);
      strays = terminateTagged({ exact: tag }, killGraceMs).catch(() => {});
    };
    const onAbort = () => stop('aborted');

    const stopWatching = () => {
      clearTimeout(wallTimer);
      clearTimeout(idleTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    const finish = (): void => {
      if (finished) return;
      finished = true;
      stopWatching();
      clearTimeout(drainTimer);
      output.end();
      if (pgid !== undefined && !groupAlive(pgid)) {
        this.#groups.delete(pgid);
        clearTimeout(killTimer);
      }
      // Otherwise a pending SIGKILL still has work to do, or destroy() will clean up the group.
      // A stopped exec returns once nothing it started outside its group runs any more.
      void (strays ?? Promise.resolve()).then(() => {
        onDone(exitCode, end ?? 'exited', output.error);
        markDone();
      });
    };

    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]?.on('data', (chunk: Buffer) => {
        idleTimer?.refresh();
        output.push(stream, chunk);
      });
    }
    if (options.stdin !== undefined && child.stdin) {
      // The command may exit without reading its input; EPIPE is not our failure.
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (pgid !== undefined) return; // only spawn failures matter; we never use child.kill()
      // Report like a shell would (127: not found, 126: not executable) rather than throwing: a
      // missing agent binary is an agent failure the user should see, not a Forge crash.
      exitCode = error.code === 'ENOENT' ? 127 : 126;
      output.line('stderr', `forge: could not start ${child.spawnfile}: ${error.message}`);
      finish();
    });
    child.once('exit', (code) => {
      exited = true;
      exitCode = code;
      stopWatching();
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, drainGraceMs);
    });
    child.once('close', finish);

    if (pgid !== undefined) {
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        wallTimer = setTimeout(() => stop('timeout'), options.timeoutMs);
      }
      if (options.idleTimeoutMs !== undefined && options.idleTimeoutMs > 0) {
        idleTimer = setTimeout(() => stop('idle_timeout'), options.idleTimeoutMs);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
    }

    return { stop, done };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  async #teardown(): Promise<void> {
    const running = [...this.#running];
    for (const exec of running) exec.stop('aborted');
    const { killGraceMs } = this.#options;
    await Promise.all([
      ...[...this.#groups].map((pgid) => terminateGroup(pgid, killGraceMs)),
      // Everything any exec of the session started, wherever it went (background jobs, setsid).
      terminateTagged({ prefix: `${this.#tag}.` }, killGraceMs),
    ]);
    await Promise.all(running.map((exec) => exec.done));
    this.#groups.clear();
    await rm(this.hostScratchDir, { recursive: true, force: true });
  }
}

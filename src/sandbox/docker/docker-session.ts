/**
 * One turn's container. The container idles (`sleep infinity` under docker-init); each exec()
 * is an exec in it, attached and demultiplexed into lines as it runs. Stopping (timeout, idle
 * timeout, abort, destroy) asks every process in the container to end (SIGTERM), then kills the
 * container after the grace period: the agent's files are on the host already, nothing else in
 * the container is worth keeping.
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { ExecOutput } from '../lines.js';
import type { ExecEnd, ExecOptions, ExecResult, OutputStream, SandboxSession } from '../types.js';
import { SandboxError } from '../types.js';
import {
  atMost,
  execExitCode,
  execFailure,
  oomKilledSince,
  removeContainer,
  signalAll,
} from './container-ops.js';
import {
  CONTAINER_HOME,
  CONTAINER_SCRATCH,
  CONTAINER_WORKDIR,
  envList,
  type SandboxUser,
} from './container-spec.js';
import { engineMessage, engineUnreachable, isConnectionError } from './errors.js';

export interface DockerSessionInit {
  docker: Docker;
  container: Docker.Container;
  user: SandboxUser;
  memoryMb: number;
  /** Epoch ms: no command runs past it (the reaper treats the container as an orphan then). */
  deadline: number;
  hostHomeDir: string;
  hostScratchDir: string;
  killGraceMs: number;
  drainGraceMs: number;
  exitPollMs: number;
  maxLineBytes: number;
  /** Hands files the host wrote since the last exec (CLI configs, prompt files) to the agent. */
  handOver(): Promise<void>;
  /** Called once the container is gone (or removal was attempted). */
  onDestroyed(): void;
}

interface RunningExec {
  stop(reason: ExecEnd): void;
  done: Promise<void>;
}

export class DockerSandboxSession implements SandboxSession {
  readonly workdir = CONTAINER_WORKDIR;
  readonly homeDir = CONTAINER_HOME;
  readonly scratchDir = CONTAINER_SCRATCH;
  readonly hostHomeDir: string;
  readonly hostScratchDir: string;
  readonly #init: DockerSessionInit;
  readonly #running = new Set<RunningExec>();
  #stopping: Promise<void> | undefined;
  #destroyed: Promise<void> | undefined;

  constructor(init: DockerSessionInit) {
    this.#init = init;
    this.hostHomeDir = init.hostHomeDir;
    this.hostScratchDir = init.hostScratchDir;
  }

  /** The engine's container id (for logs and tests). */
  get containerId(): string {
    return this.#init.container.id;
  }

  exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
    if (this.#destroyed) return Promise.reject(new Error('exec() called on a destroyed sandbox session'));
    if (!argv[0]) return Promise.reject(new TypeError('exec() needs a non-empty argv'));
    return this.#exec(argv, options);
  }

  async #exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    const result = (exitCode: number | null, end: ExecEnd): ExecResult => ({
      exitCode,
      end,
      durationMs: Math.round(performance.now() - started),
    });
    if (options.signal?.aborted) return result(null, 'aborted');
    if (this.#stopping) {
      throw new SandboxError(
        'exec_failed',
        'the sandbox was stopped (timeout, idle timeout or stop) and cannot run more commands',
      );
    }
    const remaining = this.#init.deadline - Date.now();
    if (remaining <= 0) return result(null, 'timeout');
    const timeoutMs = Math.min(
      options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : remaining,
      remaining,
    );
    const env = envList({ ...options.env, HOME: CONTAINER_HOME });
    await this.#init.handOver();

    const { container, user } = this.#init;
    const withStdin = options.stdin !== undefined;
    // Seconds with millisecond precision, for the engine's event filter (OOM detection): an OOM
    // kill during an earlier command must not be blamed on this one.
    const since = Number((Date.now() / 1000).toFixed(3));
    let exec: Docker.Exec;
    let stream: Duplex;
    try {
      exec = await container.exec({
        Cmd: argv,
        AttachStdin: withStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Env: env,
        User: user.spec,
        WorkingDir: CONTAINER_WORKDIR,
      });
      stream = (await exec.start({ hijack: true, stdin: withStdin })) as Duplex;
    } catch (error) {
      throw await execFailure(this.#init.docker, this.#init.container, this.#init.memoryMb, error);
    }
    return this.#watch(exec, stream, options, timeoutMs, since, result);
  }

  #watch(
    exec: Docker.Exec,
    stream: Duplex,
    options: ExecOptions,
    timeoutMs: number,
    since: number,
    result: (exitCode: number | null, end: ExecEnd) => ExecResult,
  ): Promise<ExecResult> {
    const { drainGraceMs, exitPollMs } = this.#init;
    // An agent's JSON stream can carry whole files on one line: the exec may ask for a larger cap.
    const maxLineBytes = options.maxLineBytes ?? this.#init.maxLineBytes;
    return new Promise<ExecResult>((resolve, reject) => {
      let end: ExecEnd | undefined;
      let finished = false;
      let drainTimer: NodeJS.Timeout | undefined;
      let markDone!: () => void;
      const done = new Promise<void>((r) => {
        markDone = r;
      });

      const output = new ExecOutput(options.onLine, maxLineBytes, () => stop('aborted'));
      const sink = (s: OutputStream) =>
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            idleTimer?.refresh();
            output.push(s, chunk);
            callback();
          },
        });

      const stop = (reason: ExecEnd): void => {
        if (end !== undefined || finished) return;
        end = reason;
        void this.#stopContainer();
      };
      const onAbort = () => stop('aborted');
      const wallTimer = setTimeout(() => stop('timeout'), timeoutMs);
      const idleTimer =
        options.idleTimeoutMs !== undefined && options.idleTimeoutMs > 0
          ? setTimeout(() => stop('idle_timeout'), options.idleTimeoutMs)
          : undefined;
      // The command's own exit does not end the stream while a background child still holds its
      // stdout; poll the exec, and after a short drain stop reading.
      const pollTimer = setInterval(() => {
        exec.inspect().then(
          (info) => {
            if (!info.Running && !drainTimer && !finished) {
              drainTimer = setTimeout(() => {
                stream.destroy();
                void finish();
              }, drainGraceMs);
            }
          },
          () => undefined,
        );
      }, exitPollMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const finish = async (): Promise<void> => {
        if (finished) return;
        finished = true;
        clearTimeout(wallTimer);
        clearTimeout(idleTimer);
        clearTimeout(drainTimer);
        clearInterval(pollTimer);
        options.signal?.removeEventListener('abort', onAbort);
        output.end();
        let outcome: { ok: ExecResult } | { error: unknown };
        try {
          const exitCode = await execExitCode(this.#init.docker, exec, () => this.#stopping !== undefined);
          let how: ExecEnd = end ?? 'exited';
          if (
            how === 'exited' &&
            (exitCode === 137 || exitCode === null) &&
            (await oomKilledSince(this.#init.docker, this.#init.container, since))
          ) {
            how = 'oom';
          }
          outcome = output.error ? { error: output.error } : { ok: result(exitCode, how) };
        } catch (error) {
          outcome = { error };
        }
        this.#running.delete(running);
        markDone();
        // A stopped command reports only once its container is down (the stop waits for `done`).
        if (end !== undefined) await this.#stopping;
        if ('ok' in outcome) resolve(outcome.ok);
        else reject(outcome.error);
      };

      const running: RunningExec = { stop, done };
      this.#running.add(running);
      // Aborted while the exec was being set up: the abort listener would never fire.
      if (options.signal?.aborted) stop('aborted');
      stream.once('end', () => void finish());
      stream.once('close', () => void finish());
      stream.on('error', () => void finish());
      this.#init.docker.modem.demuxStream(stream, sink('stdout'), sink('stderr'));
      if (options.stdin !== undefined) {
        // Half-close after the input: the command sees EOF, its output keeps flowing back.
        stream.write(options.stdin);
        stream.end();
      }
    });
  }

  /** SIGTERM to every process, then SIGKILL to the container after the grace period. Idempotent. */
  #stopContainer(): Promise<void> {
    this.#stopping ??= (async () => {
      const { container, user, killGraceMs } = this.#init;
      await signalAll(container, user.spec, 'TERM');
      const allDone = Promise.all([...this.#running].map((r) => r.done));
      await atMost(allDone, killGraceMs);
      await container.kill().catch(() => undefined);
    })();
    return this.#stopping;
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  async #teardown(): Promise<void> {
    const { container, docker } = this.#init;
    const running = [...this.#running];
    for (const exec of running) exec.stop('aborted');
    if (running.length > 0) await this.#stopContainer();
    const failure = await removeContainer(container);
    await atMost(Promise.all(running.map((r) => r.done)), 5_000);
    // Only once the container is gone: a path-based recursive rm racing a live agent that swaps a
    // directory for a link could delete host files. Otherwise the reaper removes both later.
    if (failure === undefined) await rm(this.hostScratchDir, { recursive: true, force: true });
    this.#init.onDestroyed();
    if (failure !== undefined) {
      if (isConnectionError(failure)) throw engineUnreachable(docker, failure);
      throw new SandboxError(
        'exec_failed',
        `could not remove the agent container ${container.id.slice(0, 12)} (the reaper will retry): ${engineMessage(failure)}`,
        { cause: failure },
      );
    }
  }
}

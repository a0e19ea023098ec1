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
import { LineSplitter } from '../lines.js';
import type { ExecEnd, ExecOptions, ExecResult, OutputStream, SandboxSession } from '../types.js';
import { SandboxError } from '../types.js';
import {
  CONTAINER_HOME,
  CONTAINER_SCRATCH,
  CONTAINER_WORKDIR,
  envList,
  type SandboxUser,
} from './container-spec.js';
import { engineMessage, engineUnreachable, isConnectionError, statusOf } from './errors.js';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `promise`, at most `ms`; the timer is cleared so it never holds the process open. */
async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
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
      throw await this.#execFailed(error);
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
    const { drainGraceMs, exitPollMs, maxLineBytes } = this.#init;
    return new Promise<ExecResult>((resolve, reject) => {
      let end: ExecEnd | undefined;
      let finished = false;
      let listenerError: Error | undefined;
      let drainTimer: NodeJS.Timeout | undefined;
      let markDone!: () => void;
      const done = new Promise<void>((r) => {
        markDone = r;
      });

      const emitter = (s: OutputStream) => (line: string) => {
        if (listenerError) return;
        try {
          options.onLine(s, line);
        } catch (error) {
          // A throwing listener is a bug in the caller: stop the command and surface the error.
          listenerError = error instanceof Error ? error : new Error(String(error));
          stop('aborted');
        }
      };
      const splitters = {
        stdout: new LineSplitter(emitter('stdout'), maxLineBytes),
        stderr: new LineSplitter(emitter('stderr'), maxLineBytes),
      };
      const sink = (s: OutputStream) =>
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            idleTimer?.refresh();
            splitters[s].push(chunk);
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
        splitters.stdout.end();
        splitters.stderr.end();
        let outcome: { ok: ExecResult } | { error: unknown };
        try {
          const exitCode = await this.#exitCode(exec);
          let how: ExecEnd = end ?? 'exited';
          if (how === 'exited' && (exitCode === 137 || exitCode === null) && (await this.#oomKilled(since))) {
            how = 'oom';
          }
          outcome = listenerError ? { error: listenerError } : { ok: result(exitCode, how) };
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

  /** The exec's exit code; null when the engine cannot tell (the container was killed under it). */
  async #exitCode(exec: Docker.Exec): Promise<number | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const info = await exec.inspect();
        if (!info.Running) return info.ExitCode ?? null;
        // After a container kill the engine may report a dead exec as running forever.
        if (this.#stopping && attempt >= 4) return info.ExitCode ?? null;
      } catch (error) {
        if (isConnectionError(error)) throw engineUnreachable(this.#init.docker, error);
        return null;
      }
      await sleep(25 * (attempt + 1));
    }
    return null;
  }

  /** Whether the kernel killed something in this container for memory since `since`. */
  async #oomKilled(since: number): Promise<boolean> {
    const { docker, container } = this.#init;
    try {
      const info = await container.inspect();
      if (info.State.OOMKilled) return true;
      // A process killed while the container lives on leaves only an `oom` event. The engine may
      // log it a moment after the exit: look slightly into the future.
      const until = (Date.now() + 300) / 1000;
      const events = (await docker.getEvents({
        since,
        until: Number(until.toFixed(3)),
        filters: { container: [container.id], event: ['oom'] },
      })) as NodeJS.ReadableStream;
      let text = '';
      for await (const chunk of events) text += chunk.toString();
      return text.includes('"oom"');
    } catch {
      return false;
    }
  }

  async #execFailed(error: unknown): Promise<SandboxError> {
    const { docker, container, memoryMb } = this.#init;
    if (isConnectionError(error)) return engineUnreachable(docker, error);
    const status = statusOf(error);
    if (status === 409 || status === 404) {
      const state = await container.inspect().then(
        (info) => info.State,
        () => undefined,
      );
      if (state?.OOMKilled) {
        return new SandboxError(
          'out_of_memory',
          `the agent container ran out of memory (limit ${memoryMb} MiB, FORGE_SANDBOX_MEMORY_MB) and stopped`,
          { cause: error },
        );
      }
    }
    return new SandboxError(
      'exec_failed',
      `could not run a command in the agent container: ${engineMessage(error)}`,
      {
        cause: error,
      },
    );
  }

  /** SIGTERM to every process, then SIGKILL to the container after the grace period. Idempotent. */
  #stopContainer(): Promise<void> {
    this.#stopping ??= (async () => {
      const { container, user, killGraceMs } = this.#init;
      try {
        // As the agent's own user: `kill -1` reaches all its processes except init and itself.
        const term = await container.exec({
          Cmd: ['sh', '-c', 'kill -TERM -1 2>/dev/null; true'],
          User: user.spec,
          AttachStdout: false,
          AttachStderr: false,
        });
        const response = (await term.start({ Detach: true })) as NodeJS.ReadableStream | undefined;
        // Drain the (empty) answer so its socket is released instead of lingering.
        response?.resume();
      } catch {
        // No shell, or the container is already gone: the kill below does the job.
      }
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
    let failure: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await container.remove({ force: true, v: true });
        failure = undefined;
        break;
      } catch (error) {
        const status = statusOf(error);
        // Gone already, or another remove (the reaper) is at it.
        if (status === 404 || (status === 409 && /in progress/i.test(engineMessage(error)))) {
          failure = undefined;
          break;
        }
        failure = error;
        await sleep(200);
      }
    }
    await atMost(Promise.all(running.map((r) => r.done)), 5_000);
    await rm(this.hostScratchDir, { recursive: true, force: true });
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

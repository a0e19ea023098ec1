/**
 * Where an agent runs. The host owns the checkout (clone, commit, push); a sandbox only executes
 * commands in it. No forge token ever enters a sandbox.
 */

export interface SandboxLimits {
  memoryMb?: number;
  cpus?: number;
  pids?: number;
}

export interface SandboxSpec {
  /** Host path of the turn's checkout. */
  checkoutDir: string;
  /** Host directory kept per task for the agent's home (CLI sessions); created if missing. */
  homeDir: string;
  /** The complete environment the agent sees. Nothing else from Forge's environment leaks in. */
  env: Record<string, string>;
  /** Labels for finding orphans (task id, turn). */
  labels: Record<string, string>;
  image?: string;
  limits?: SandboxLimits;
}

export type OutputStream = 'stdout' | 'stderr';

export interface ExecOptions {
  /** Aborting kills the command (and everything it started). */
  signal?: AbortSignal;
  /** Wall-clock limit in ms. */
  timeoutMs?: number;
  /** Kill after this long without any output. */
  idleTimeoutMs?: number;
  /** Written to the command's stdin, then closed. */
  stdin?: string;
  /** Extra environment for this command only. */
  env?: Record<string, string>;
  /**
   * Cap for one output line in bytes, on both streams (default: the sandbox's own, 64 KiB). The rest
   * of a longer line is dropped and the line ends with TRUNCATED_MARKER (see lines.ts). The agent
   * runners raise it for the CLIs' JSON event streams.
   */
  maxLineBytes?: number;
  onLine(stream: OutputStream, line: string): void;
}

export type ExecEnd = 'exited' | 'aborted' | 'timeout' | 'idle_timeout' | 'oom';

export interface ExecResult {
  exitCode: number | null;
  end: ExecEnd;
  durationMs: number;
}

export interface SandboxSession {
  /** Path of the checkout as the command sees it. */
  readonly workdir: string;
  /** Path of the agent's home as the command sees it (kept per task: CLI sessions live here). */
  readonly homeDir: string;
  /** Host path of that home directory (runners write CLI configuration files through it). */
  readonly hostHomeDir: string;
  /** Path of a per-turn scratch directory for prompt files, as the command sees it. */
  readonly scratchDir: string;
  /** Host path of that scratch directory (to write prompt files into). */
  readonly hostScratchDir: string;
  exec(argv: string[], options: ExecOptions): Promise<ExecResult>;
  /** Idempotent; always called in `finally`. */
  destroy(): Promise<void>;
}

export interface Sandbox {
  readonly kind: 'local' | 'docker';
  create(spec: SandboxSpec): Promise<SandboxSession>;
  /** Remove leftovers of crashed workers; returns how many were removed. */
  reapOrphans(): Promise<number>;
}

/**
 * `engine_unreachable`: the container engine did not answer (DOCKER_HOST). `image_missing`: the
 * agent image is not on the engine. `start_failed`: the container could not be made or started.
 * `invalid_options`: the sandbox configuration is unsafe or malformed (e.g. a root sandbox user).
 * `exec_failed`: a command could not be started in a running sandbox. `out_of_memory`: the
 * sandbox itself was killed for memory, so nothing more can run in it.
 */
export type SandboxErrorCode =
  | 'engine_unreachable'
  | 'image_missing'
  | 'start_failed'
  | 'invalid_options'
  | 'exec_failed'
  | 'out_of_memory';

export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SandboxError';
  }
}

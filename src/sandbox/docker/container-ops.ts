/**
 * Engine queries and actions a sandbox session needs around its commands: an exec's exit code, an
 * OOM kill, why an exec could not start, signalling every process, removing the container.
 */
import type Docker from 'dockerode';
import { SandboxError } from '../types.js';
import { engineMessage, engineUnreachable, isConnectionError, statusOf } from './errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `promise`, at most `ms`; the timer is cleared so it never holds the process open. */
export async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** The exec's exit code; null when the engine cannot tell (the container was killed under it). */
export async function execExitCode(
  docker: Docker,
  exec: Docker.Exec,
  containerStopped: () => boolean,
): Promise<number | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const info = await exec.inspect();
      if (!info.Running) return info.ExitCode ?? null;
      // After a container kill the engine may report a dead exec as running forever.
      if (containerStopped() && attempt >= 4) return info.ExitCode ?? null;
    } catch (error) {
      if (isConnectionError(error)) throw engineUnreachable(docker, error);
      return null;
    }
    await sleep(25 * (attempt + 1));
  }
  return null;
}

/** Whether the kernel killed something in this container for memory since `since` (epoch s). */
export async function oomKilledSince(
  docker: Docker,
  container: Docker.Container,
  since: number,
): Promise<boolean> {
  try {
    const info = await container.inspect();
    if (info.State.OOMKilled) return true;
    // A process killed while the container lives on leaves only an `oom` event. The engine may
    // log it a moment after the exit: look slightly into the future.
    const until = Number(((Date.now() + 300) / 1000).toFixed(3));
    const events = (await docker.getEvents({
      since,
      until,
      filters: { container: [container.id], event: ['oom'] },
    })) as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of events) text += chunk.toString();
    return text.includes('"oom"');
  } catch {
    return false;
  }
}

/** Why an exec could not be created or started, as a SandboxError. */
export async function execFailure(
  docker: Docker,
  container: Docker.Container,
  memoryMb: number,
  error: unknown,
): Promise<SandboxError> {
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

/**
 * Sends `signal` to every process of `user` in the container except init, best effort: `kill -1`
 * from the agent's own user reaches exactly the agent's processes. Resolves once the signal went
 * out (so a grace period counted from here is really the agent's), at most `timeoutMs` later.
 */
export async function signalAll(
  container: Docker.Container,
  user: string,
  signal: 'TERM' | 'KILL',
  timeoutMs = 5_000,
): Promise<void> {
  try {
    const exec = await container.exec({
      Cmd: ['sh', '-c', `kill -${signal} -1 2>/dev/null; true`],
      User: user,
      AttachStdout: false,
      AttachStderr: false,
    });
    const response = (await exec.start({ Detach: true })) as NodeJS.ReadableStream | undefined;
    // Drain the (empty) answer so its socket is released instead of lingering.
    response?.resume();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (await exec.inspect()).Running !== false) await sleep(20);
  } catch {
    // No shell, or the container is already gone: the caller's kill does the job.
  }
}

/** Removes the container (force), retrying briefly; returns the last error if it stayed. */
export async function removeContainer(container: Docker.Container): Promise<unknown> {
  let failure: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await container.remove({ force: true, v: true });
      return undefined;
    } catch (error) {
      const status = statusOf(error);
      // Gone already, or another remove (the reaper) is at it.
      if (status === 404 || (status === 409 && /in progress/i.test(engineMessage(error)))) return undefined;
      failure = error;
      await sleep(200);
    }
  }
  return failure;
}

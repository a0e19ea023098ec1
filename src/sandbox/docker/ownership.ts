/**
 * Gives host-made files to the sandbox user, so the agent (uid 1000 by default) can write the
 * checkout, its home and the scratch dir the worker (often root) created.
 *
 * This runs while an agent that may be hostile can still change the tree (a background process of
 * an earlier command), so it must not follow a symlink swapped in mid-walk: GNU `chown -R -P`
 * walks with openat() relative to directory descriptors and changes each entry with
 * fchownat(AT_SYMLINK_NOFOLLOW) on its name (never opening it, so a FIFO or device cannot block
 * or trigger anything); `--from` picks what belongs to the worker by the walk's lstat. An entry
 * swapped in after that lstat is changed itself, never what it points to. A hand-written recursive
 * chown by path in Node would be open to exactly the race this avoids.
 */
import { spawn } from 'node:child_process';
import { SandboxError } from '../types.js';
import type { SandboxUser } from './container-spec.js';

const HAND_OVER_TIMEOUT_MS = 120_000;

export type OwnershipPlan = 'none' | 'chown';

/** What it takes for `user` to own files this process creates. Throws when it cannot be done. */
export function ownershipPlan(user: SandboxUser, processUid = process.getuid?.()): OwnershipPlan {
  if (processUid === undefined || processUid === user.uid) return 'none';
  if (processUid === 0) return 'chown';
  throw new SandboxError(
    'invalid_options',
    `Forge runs as uid ${processUid}, so the files it creates cannot be handed to the sandbox user ${user.spec} (FORGE_SANDBOX_USER); run the worker as uid ${user.uid}, or as root`,
  );
}

/** `chown -R` of everything under `paths` still owned by this process's uid to the sandbox user. */
export function handOver(paths: string[], user: SandboxUser, plan: OwnershipPlan): Promise<void> {
  if (plan === 'none' || paths.length === 0) return Promise.resolve();
  const self = process.getuid?.() ?? 0;
  return new Promise((resolve, reject) => {
    const child = spawn('chown', ['-R', '-P', `--from=${self}`, user.spec, '--', ...paths], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: HAND_OVER_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.once('error', (error) =>
      reject(new SandboxError('start_failed', `could not run chown for the sandbox user: ${error.message}`)),
    );
    child.once('close', (code, signal) => {
      // A file that vanished mid-walk (a process in the sandbox deleted it) needs no owner.
      const lines = stderr.trim().split('\n').filter(Boolean);
      if (
        code === 0 ||
        (code === 1 && lines.length > 0 && lines.every((l) => /No such file or directory/.test(l)))
      )
        resolve();
      else
        reject(
          new SandboxError(
            'start_failed',
            `could not hand the sandbox's files to ${user.spec} (chown ${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join('; ')}`,
          ),
        );
    });
  });
}

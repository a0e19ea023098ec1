/**
 * Optional cache: one bare mirror per remote under `<root>/mirrors`, fetched before each clone, so a
 * turn's clone is a fast local copy instead of a full network clone. The mirror is a host-only git
 * dir like host.git: its config comes from the same fixed template and it is never mounted into a
 * sandbox.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitCredentials } from '../forge/types.js';
import { enforceHostConfig, hostConfigText } from './host-config.js';
import { runGit } from './run-git.js';

// Fetches into one mirror are serialized within this process; git's ref locks guard across processes.
const inFlight = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(key) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(work);
  inFlight.set(key, next);
  void next
    .finally(() => {
      if (inFlight.get(key) === next) inFlight.delete(key);
    })
    .catch(() => {});
  return next;
}

export function mirrorDirFor(root: string, remoteUrl: string): string {
  const id = createHash('sha256').update(remoteUrl).digest('hex').slice(0, 24);
  return join(root, 'mirrors', `${id}.git`);
}

/** Creates or updates the mirror of `remoteUrl` (all branches, no tags); returns its path. */
export function syncMirror(input: {
  root: string;
  remoteUrl: string;
  creds: GitCredentials;
  depth?: number | undefined;
}): Promise<string> {
  const dir = mirrorDirFor(input.root, input.remoteUrl);
  return serialized(dir, async () => {
    const base = { cwd: join(input.root, 'mirrors'), env: { GIT_CEILING_DIRECTORIES: input.root } };
    await mkdir(base.cwd, { recursive: true, mode: 0o700 });
    if (!(await lstat(dir).catch(() => undefined))) {
      await runGit(['init', '--quiet', '--bare', '--', dir], base);
    }
    await enforceHostConfig(dir, hostConfigText(input.remoteUrl));
    const scheme = new URL(input.remoteUrl).protocol === 'http:' ? 'http' : 'https';
    const depth = input.depth !== undefined ? ['--depth', String(input.depth)] : [];
    try {
      await runGit(
        [
          'fetch',
          '--quiet',
          '--prune',
          '--no-tags',
          ...depth,
          '--',
          input.remoteUrl,
          '+refs/heads/*:refs/heads/*',
        ],
        {
          ...base,
          gitDir: dir,
          auth: { url: input.remoteUrl, creds: input.creds },
          protocols: [scheme],
          timeoutMs: 15 * 60_000,
        },
      );
    } catch (e) {
      // A mirror that never got its first fetch is useless; one that did stays for next time.
      const hasRefs = await runGit(['for-each-ref', '--count=1', 'refs/heads'], { ...base, gitDir: dir });
      if (!hasRefs.stdout.trim()) await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return dir;
  });
}

/**
 * The low-level steps of AgentDir (safe-fs.ts): opening a directory or a regular file inside an
 * already open directory without following a link or blocking on a FIFO, and the error that says
 * what was refused.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

export const PROC_FD = '/proc/self/fd';

export type RefusedReason = 'symlink' | 'not_directory' | 'not_file' | 'too_large';

/** A path Forge will not use as asked (the message names it as the sandbox sees it). */
export class RefusedPathError extends Error {
  constructor(
    /** The path as the sandbox sees it. */
    readonly path: string,
    readonly reason: RefusedReason,
    maxBytes?: number,
  ) {
    super(`${path} ${explain(reason, maxBytes)}`);
    this.name = 'RefusedPathError';
  }
}

function explain(reason: RefusedReason, maxBytes: number | undefined): string {
  switch (reason) {
    case 'symlink':
      return 'is a symbolic link';
    case 'not_directory':
      return 'is not a directory';
    case 'not_file':
      return 'is not a regular file';
    case 'too_large':
      return `is larger than ${maxBytes} bytes`;
  }
}

export interface OpenDir {
  handle: FileHandle;
  /** How to name entries in it: `/proc/self/fd/<fd>`, or the checked path without /proc. */
  path: string;
}

/** The trusted root (the host's own directory: links in its path are the operator's). */
export async function openRoot(root: string, create: boolean, procFd: boolean): Promise<OpenDir | undefined> {
  const attempt = () => open(root, O_RDONLY | O_DIRECTORY);
  let handle: FileHandle;
  try {
    handle = await attempt();
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
    if (!create) return undefined;
    await mkdir(root, { recursive: true });
    handle = await attempt();
  }
  return { handle, path: procFd ? `${PROC_FD}/${handle.fd}` : root };
}

/**
 * Directory `name` in `dir`, never through a link; undefined when missing. `shown` names it in a
 * refusal. Without /proc the next step goes by path, so the inode is compared (best effort).
 */
export async function openDirIn(
  dir: OpenDir,
  name: string,
  shown: string,
  procFd: boolean,
): Promise<OpenDir | undefined> {
  const path = join(dir.path, name);
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR' || code === 'ELOOP') {
      const st = await lstat(path).catch(() => undefined);
      throw new RefusedPathError(shown, st?.isSymbolicLink() ? 'symlink' : 'not_directory');
    }
    throw error;
  }
  if (!procFd) {
    const [byPath, byHandle] = await Promise.all([lstat(path).catch(() => undefined), handle.stat()]);
    if (!byPath || !sameInode(byPath, byHandle)) {
      await handle.close();
      throw new RefusedPathError(shown, 'symlink');
    }
  }
  return { handle, path: procFd ? `${PROC_FD}/${handle.fd}` : path };
}

/** Regular file `name` in `dir`, opened with `flags` without following a link or blocking on a FIFO. */
export async function openFileIn(
  dir: OpenDir,
  name: string,
  shown: string,
  flags: number,
): Promise<FileHandle | undefined> {
  const path = join(dir.path, name);
  // lstat first: a device or FIFO is never opened at all.
  const before = await lstat(path).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (!before) return undefined;
  if (before.isSymbolicLink()) throw new RefusedPathError(shown, 'symlink');
  if (!before.isFile()) throw new RefusedPathError(shown, 'not_file');
  let handle: FileHandle;
  try {
    handle = await open(path, flags | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new RefusedPathError(shown, 'symlink');
    throw error;
  }
  // What was opened must be what lstat saw (not swapped meanwhile), and still a regular file.
  const after = await handle.stat();
  if (!after.isFile() || !sameInode(before, after)) {
    await handle.close();
    throw new RefusedPathError(shown, 'not_file');
  }
  return handle;
}

function sameInode(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

export function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

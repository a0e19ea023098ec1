/**
 * File operations for the host (often root) in directories an agent controls: the per-task home and
 * the per-turn scratch directory. Whatever is in them may have been planted by the agent, or by a
 * process it left running: a symlink to /etc/shadow or to another task's checkout, a FIFO that
 * blocks every open, a file of gigabytes, a directory where a file was expected.
 *
 * So, below the trusted root (a directory the host created):
 * - every directory is opened with O_NOFOLLOW|O_DIRECTORY and the next one is reached through the
 *   open descriptor (`/proc/self/fd/<fd>/<name>`, Node has no openat), so swapping a directory for
 *   a link between two steps gains nothing; a link anywhere on the way is refused;
 * - files are read through an O_NOFOLLOW|O_NONBLOCK descriptor (a FIFO cannot block), refused
 *   unless fstat says regular file, and read up to a byte cap;
 * - files are written into a fresh temp file (O_CREAT|O_EXCL|O_NOFOLLOW) that is fchown'd through
 *   its descriptor and renamed over the name: a link or file at the name is replaced, never
 *   written through;
 * - missing directories are made one level at a time and opened again without following links.
 *
 * Without /proc (macOS, development only) each directory is checked by lstat and the descriptor's
 * inode compared, which is best effort: a swap between the check and the next step can still win.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  codeOf,
  type OpenDir,
  openDirIn,
  openFileIn,
  openRoot,
  PROC_FD,
  RefusedPathError,
} from './safe-open.js';

export { RefusedPathError, type RefusedReason } from './safe-open.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND } = constants;

export interface AgentDirOptions {
  /** The root as the sandbox sees it, for messages (e.g. `/home/agent`); defaults to the host path. */
  shownAs?: string;
  /**
   * When the worker is root: what it creates is given to the root directory's owner (the sandbox
   * user), through the new file's or directory's own descriptor.
   */
  ownLikeRoot?: boolean;
  /** Reach entries through `/proc/self/fd` (default: when it exists). */
  procFd?: boolean;
}

export interface DirEntry {
  name: string;
  /** Links, FIFOs, sockets and devices are `other`. */
  type: 'file' | 'directory' | 'other';
}

interface Walk {
  dir: OpenDir;
  /** The root's owner, when what is created must be handed to it. */
  owner?: { uid: number; gid: number };
}

/** A directory tree on the host whose contents the agent controls. */
export class AgentDir {
  readonly root: string;
  readonly #shownAs: string;
  readonly #ownLikeRoot: boolean;
  readonly #procFd: boolean;

  constructor(root: string, options: AgentDirOptions = {}) {
    this.root = root;
    this.#shownAs = options.shownAs ?? root;
    this.#ownLikeRoot = options.ownLikeRoot ?? false;
    this.#procFd = options.procFd ?? existsSync(PROC_FD);
  }

  /** `rel` as the sandbox sees it. */
  shown(rel: string): string {
    return rel ? posix.join(this.#shownAs, rel) : this.#shownAs;
  }

  /**
   * The file's text; undefined when it (or a directory on the way) does not exist. Refuses links,
   * anything but a regular file, and files over `maxBytes` (or, with `truncate`, reads only the
   * first `maxBytes`).
   */
  async read(rel: string, options: { maxBytes: number; truncate?: boolean }): Promise<string | undefined> {
    const { parents, name } = this.#split(rel, false);
    return this.#withWalk(parents, false, async (walk) => {
      if (!walk) return undefined;
      const handle = await openFileIn(walk.dir, name, this.shown(rel), O_RDONLY);
      if (!handle) return undefined;
      try {
        const { size } = await handle.stat();
        if (size > options.maxBytes && !options.truncate)
          throw new RefusedPathError(this.shown(rel), 'too_large', options.maxBytes);
        // One byte more than allowed tells a file that grew since fstat.
        const cap = options.truncate ? options.maxBytes : options.maxBytes + 1;
        const buffer = Buffer.alloc(Math.min(cap, size + 1));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled > options.maxBytes)
          throw new RefusedPathError(this.shown(rel), 'too_large', options.maxBytes);
        return buffer.toString('utf8', 0, filled);
      } finally {
        await handle.close();
      }
    });
  }

  /**
   * Writes the file whole (temp file, then rename), making missing parent directories. Whatever was
   * at the name (a file, a link) is replaced; a directory there, or a link on the way, is refused.
   */
  async write(rel: string, content: string, options: { mode?: number } = {}): Promise<void> {
    const { parents, name } = this.#split(rel, false);
    const mode = options.mode ?? 0o644;
    await this.#withWalk(parents, true, async (walk) => {
      const { dir } = walk!;
      const temp = join(dir.path, `.forge-${randomBytes(8).toString('hex')}.tmp`);
      const handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      try {
        try {
          await handle.writeFile(content, 'utf8');
          await handle.chmod(mode);
          await own(handle, walk!.owner);
        } finally {
          await handle.close();
        }
        await rename(temp, join(dir.path, name));
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        const code = codeOf(error);
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST')
          throw new RefusedPathError(this.shown(rel), 'not_file');
        throw error;
      }
    });
  }

  /** Appends to an existing regular file; false when there is none. */
  async append(rel: string, content: string): Promise<boolean> {
    const { parents, name } = this.#split(rel, false);
    return this.#withWalk(parents, false, async (walk) => {
      if (!walk) return false;
      const handle = await openFileIn(walk.dir, name, this.shown(rel), O_WRONLY | O_APPEND);
      if (!handle) return false;
      try {
        await handle.writeFile(content, 'utf8');
        return true;
      } finally {
        await handle.close();
      }
    });
  }

  /** Makes `rel` and its missing parents (refusing links on the way). */
  async mkdirs(rel: string): Promise<void> {
    await this.#withWalk(this.#split(rel, true).all, true, async () => undefined);
  }

  /** Removes a file or link (never what a link points to); nothing to do when absent. */
  async remove(rel: string): Promise<void> {
    const { parents, name } = this.#split(rel, false);
    await this.#withWalk(parents, false, async (walk) => {
      if (!walk) return;
      try {
        await unlink(join(walk.dir.path, name));
      } catch (error) {
        const code = codeOf(error);
        if (code === 'ENOENT') return;
        if (code === 'EISDIR' || code === 'EPERM') throw new RefusedPathError(this.shown(rel), 'not_file');
        throw error;
      }
    });
  }

  /** The entries of directory `rel` ('' for the root); empty when it does not exist. */
  async list(rel: string): Promise<DirEntry[]> {
    return this.#withWalk(this.#split(rel, true).all, false, async (walk) => {
      if (!walk) return [];
      const entries = await readdir(walk.dir.path, { withFileTypes: true });
      return entries.map((e) => ({
        name: e.name,
        type: e.isFile() ? 'file' : e.isDirectory() ? 'directory' : 'other',
      }));
    });
  }

  #split(rel: string, allowRoot: boolean): { parents: string[]; name: string; all: string[] } {
    const trimmed = rel.replace(/\/+$/, '');
    const all = trimmed === '' ? [] : trimmed.split('/');
    const bad = all.some((part) => part === '' || part === '.' || part === '..');
    if (bad || rel.startsWith('/') || (!allowRoot && all.length === 0))
      throw new TypeError(`not a path inside ${this.#shownAs}: ${rel}`);
    return { parents: all.slice(0, -1), name: all.at(-1) ?? '', all };
  }

  /** Opens the directories of `parts` one by one (making missing ones), runs `work`, closes them. */
  async #withWalk<T>(
    parts: string[],
    create: boolean,
    work: (walk: Walk | undefined) => Promise<T>,
  ): Promise<T> {
    const opened: FileHandle[] = [];
    try {
      const root = await openRoot(this.root, create, this.#procFd);
      if (!root) return await work(undefined);
      opened.push(root.handle);
      let owner: Walk['owner'];
      if (this.#ownLikeRoot && process.getuid?.() === 0) {
        const st = await root.handle.stat();
        if (st.uid !== 0 || st.gid !== 0) owner = { uid: st.uid, gid: st.gid };
      }
      let dir = root;
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i]!;
        const rel = parts.slice(0, i + 1).join('/');
        let next = await openDirIn(dir, name, this.shown(rel), this.#procFd);
        let made = false;
        if (!next && create) {
          made = await mkdir(join(dir.path, name), { mode: 0o755 }).then(
            () => true,
            (error: unknown) => {
              if (codeOf(error) === 'EEXIST') return false;
              throw error;
            },
          );
          next = await openDirIn(dir, name, this.shown(rel), this.#procFd);
        }
        if (!next) {
          // Made and gone again before it could be opened: the agent is racing us.
          if (create) throw new RefusedPathError(this.shown(rel), 'not_directory');
          return await work(undefined);
        }
        opened.push(next.handle);
        if (made) await own(next.handle, owner);
        dir = next;
      }
      return await work({ dir, ...(owner ? { owner } : {}) });
    } finally {
      for (const handle of opened.reverse()) await handle.close().catch(() => undefined);
    }
  }
}

async function own(handle: FileHandle, owner: Walk['owner']): Promise<void> {
  if (owner) await handle.chown(owner.uid, owner.gid);
}

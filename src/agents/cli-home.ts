/**
 * Files in a session's per-task home (CLI configuration, Forge's own notes about sessions), written
 * from the host. What Forge creates there takes the home's owner: in a container the CLI runs as
 * another uid than the worker and keeps its state next to its configuration.
 */
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import type { SandboxSession } from '../sandbox/types.js';

type HomeSession = Pick<SandboxSession, 'homeDir' | 'hostHomeDir'>;

/** Host path of `rel` inside the session's home; throws for paths that leave it. */
export function homePath(session: HomeSession, rel: string): string {
  const target = join(session.hostHomeDir, rel);
  const inside = relative(session.hostHomeDir, target);
  if (!inside || inside.startsWith('..') || inside.startsWith(sep))
    throw new TypeError(`not a path inside the home: ${rel}`);
  return target;
}

/** Path of `rel` inside the home as the command sees it. */
export function sandboxHomePath(session: HomeSession, rel: string): string {
  return posix.join(session.homeDir, rel.split(sep).join('/'));
}

/** Reads a file under the home; undefined when it does not exist. */
export async function readHomeFile(session: HomeSession, rel: string): Promise<string | undefined> {
  try {
    return await readFile(homePath(session, rel), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes a file under the home; the directories it creates and the file are owned like the home. */
export async function writeHomeFile(session: HomeSession, rel: string, content: string): Promise<string> {
  const target = homePath(session, rel);
  await ensureHomeDir(session, relative(session.hostHomeDir, dirname(target)));
  await writeFile(target, content, { mode: 0o644 });
  await ownLikeHome(session, [target]);
  return target;
}

/** Creates `rel` (and its parents) under the home; what it creates is owned like the home. */
export async function ensureHomeDir(session: HomeSession, rel: string): Promise<string> {
  const root = session.hostHomeDir;
  await mkdir(root, { recursive: true });
  if (!rel) return root;
  const target = homePath(session, rel);
  const chain: string[] = [];
  for (let dir = target; dir !== root; dir = dirname(dir)) chain.unshift(dir);
  const fresh: string[] = [];
  for (const dir of chain) if (await makeDir(dir)) fresh.push(dir);
  await ownLikeHome(session, fresh);
  return target;
}

/** When the worker runs as root and the home belongs to the sandbox's user, hand `paths` over. */
async function ownLikeHome(session: HomeSession, paths: string[]): Promise<void> {
  if (process.getuid?.() !== 0 || paths.length === 0) return;
  const owner = await stat(session.hostHomeDir);
  if (owner.uid === 0 && owner.gid === 0) return;
  for (const path of paths) await chown(path, owner.uid, owner.gid);
}

/** mkdir of one level; false when it already existed. */
async function makeDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * The agent's own `.git` inside the checkout. It is for the agent's convenience only (git status,
 * diff, log, even commit); the host never *runs* git on it, because after the agent has run it is
 * hostile: hooks, fsmonitor, filters, aliases, includes or a `.git` symlink could all be planted.
 * The one thing the host does to it later is name the branch (createBranch), and that is done with
 * plain file writes that refuse symlinks, so nothing in it can execute or redirect a write.
 */
import { randomBytes } from 'node:crypto';
import { chown, lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

async function isRealDir(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isDirectory() === true && !st.isSymbolicLink();
}

/** Write via a temp file and rename: rename replaces a symlink instead of following it. */
async function replaceFile(
  dir: string,
  name: string,
  content: string,
  uid: number,
  gid: number,
): Promise<void> {
  const tmp = join(dir, `.forge-${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, content, { flag: 'wx', mode: 0o644 });
  try {
    await chown(tmp, uid, gid);
    await rename(tmp, join(dir, name));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Points the agent's HEAD at a new branch `name` at `sha` (the commit it already has checked out).
 * Best effort: returns false, touching nothing more, when the `.git` layout is not the plain one we
 * created. The agent's branch name is cosmetic; the host pushes from its own git dir.
 */
export async function setAgentBranch(checkoutDir: string, name: string, sha: string): Promise<boolean> {
  const gitDir = join(checkoutDir, '.git');
  if (!(await isRealDir(gitDir))) return false;
  const owner = await lstat(gitDir);
  let dir = join(gitDir, 'refs');
  if (!(await isRealDir(dir))) return false;
  const parts = ['heads', ...name.split('/')];
  const leaf = parts.pop();
  if (!leaf) return false;
  for (const part of parts) {
    dir = join(dir, part);
    const st = await lstat(dir).catch(() => undefined);
    if (!st) {
      await mkdir(dir);
      await chown(dir, owner.uid, owner.gid);
    } else if (!st.isDirectory() || st.isSymbolicLink()) {
      return false;
    }
  }
  await replaceFile(dir, leaf, `${sha}\n`, owner.uid, owner.gid);
  await replaceFile(gitDir, 'HEAD', `ref: refs/heads/${name}\n`, owner.uid, owner.gid);
  return true;
}

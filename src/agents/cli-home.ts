/**
 * Files in a session's per-task home (CLI configuration, Forge's own notes about sessions), written
 * from the host. The agent controls the home (it persists across turns), so every access goes
 * through AgentDir: no link is followed, no FIFO blocks, reads are capped. What Forge creates there
 * takes the home's owner: in a container the CLI runs as another uid than the worker and keeps its
 * state next to its configuration.
 */
import { join, posix, sep } from 'node:path';
import { AgentDir } from '../sandbox/safe-fs.js';
import type { SandboxSession } from '../sandbox/types.js';

type HomeSession = Pick<SandboxSession, 'homeDir' | 'hostHomeDir'>;

/** Forge's notes and the CLIs' settings are small; a bigger file is not one Forge wrote. */
export const HOME_FILE_MAX_BYTES = 1024 * 1024;

/** The session's home as a tree the agent controls. */
export function homeDir(session: HomeSession): AgentDir {
  return new AgentDir(session.hostHomeDir, { shownAs: session.homeDir, ownLikeRoot: true });
}

/** Path of `rel` inside the home as the command sees it. */
export function sandboxHomePath(session: HomeSession, rel: string): string {
  return posix.join(session.homeDir, rel.split(sep).join('/'));
}

/**
 * Reads a file under the home; undefined when it does not exist. Throws RefusedPathError for a
 * link, a non-file or a file over `maxBytes`.
 */
export function readHomeFile(
  session: HomeSession,
  rel: string,
  maxBytes = HOME_FILE_MAX_BYTES,
): Promise<string | undefined> {
  return homeDir(session).read(rel, { maxBytes });
}

/**
 * Writes a file under the home (replacing whatever is at the name, never writing through it); the
 * directories it creates and the file are owned like the home. Returns its host path.
 */
export async function writeHomeFile(session: HomeSession, rel: string, content: string): Promise<string> {
  await homeDir(session).write(rel, content, { mode: 0o644 });
  return join(session.hostHomeDir, rel);
}

/** Creates `rel` (and its parents) under the home; what it creates is owned like the home. */
export async function ensureHomeDir(session: HomeSession, rel: string): Promise<string> {
  await homeDir(session).mkdirs(rel);
  return join(session.hostHomeDir, rel);
}

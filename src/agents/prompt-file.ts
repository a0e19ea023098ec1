/**
 * Hand-off files in a session's per-turn scratch directory. Prompts travel by file because argv and
 * env overflow at ~128 KiB; the host writes through `hostScratchDir`, the command reads through
 * `scratchDir` (the same directory as the sandbox sees it).
 */
import { join, posix } from 'node:path';
import { AgentDir } from '../sandbox/safe-fs.js';
import type { SandboxSession } from '../sandbox/types.js';

export const PROMPT_FILE_NAME = 'prompt.md';

export interface ScratchFile {
  /** Path on the host (for messages and tests; Forge itself goes through scratchDir). */
  hostPath: string;
  /** Path inside the sandbox (for the command). */
  path: string;
}

/**
 * The session's scratch directory as a tree the agent controls: anything in it may be a link, a
 * FIFO or huge (a setup command or a background process put it there), so Forge never follows,
 * blocks on or reads it whole.
 */
export function scratchDir(session: SandboxSession): AgentDir {
  return new AgentDir(session.hostScratchDir, { shownAs: session.scratchDir });
}

/** Where `name` lives in the session's scratch directory, on both sides. */
export function scratchFile(session: SandboxSession, name: string): ScratchFile {
  if (!name || name.includes('/') || name === '.' || name === '..') {
    throw new TypeError(`invalid scratch file name: ${JSON.stringify(name)}`);
  }
  // Sandbox paths are POSIX even if the host were not (docker on a non-POSIX host).
  return { hostPath: join(session.hostScratchDir, name), path: posix.join(session.scratchDir, name) };
}

/**
 * Writes the full prompt to `<scratch>/<name>` and returns both paths. Whatever was at the name is
 * replaced, never written through; a directory there throws RefusedPathError.
 */
export async function writePromptFile(
  session: SandboxSession,
  prompt: string,
  name = PROMPT_FILE_NAME,
): Promise<ScratchFile> {
  const file = scratchFile(session, name);
  await scratchDir(session).write(name, prompt, { mode: 0o644 });
  return file;
}

/**
 * Reads a file the command left in scratch; undefined when absent. At most `maxBytes` are read so a
 * runaway agent cannot hand us an arbitrarily large "summary". Throws RefusedPathError for a link
 * or anything but a regular file.
 */
export async function readScratchFile(
  session: SandboxSession,
  name: string,
  maxBytes = 256 * 1024,
): Promise<string | undefined> {
  scratchFile(session, name);
  return scratchDir(session).read(name, { maxBytes, truncate: true });
}

/**
 * Removes a scratch file (e.g. a stale summary from an earlier command in the same session); a link
 * is removed, not what it points to. Throws RefusedPathError for a directory.
 */
export async function removeScratchFile(session: SandboxSession, name: string): Promise<void> {
  scratchFile(session, name);
  await scratchDir(session).remove(name);
}

/**
 * Hand-off files in a session's per-turn scratch directory. Prompts travel by file because argv and
 * env overflow at ~128 KiB; the host writes through `hostScratchDir`, the command reads through
 * `scratchDir` (the same directory as the sandbox sees it).
 */
import { open, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { SandboxSession } from '../sandbox/types.js';

export const PROMPT_FILE_NAME = 'prompt.md';

export interface ScratchFile {
  /** Path on the host (for Forge to read or write). */
  hostPath: string;
  /** Path inside the sandbox (for the command). */
  path: string;
}

/** Where `name` lives in the session's scratch directory, on both sides. */
export function scratchFile(session: SandboxSession, name: string): ScratchFile {
  if (!name || name.includes('/') || name === '.' || name === '..') {
    throw new TypeError(`invalid scratch file name: ${JSON.stringify(name)}`);
  }
  // Sandbox paths are POSIX even if the host were not (docker on a non-POSIX host).
  return { hostPath: join(session.hostScratchDir, name), path: posix.join(session.scratchDir, name) };
}

/** Writes the full prompt to `<scratch>/<name>` and returns both paths. */
export async function writePromptFile(
  session: SandboxSession,
  prompt: string,
  name = PROMPT_FILE_NAME,
): Promise<ScratchFile> {
  const file = scratchFile(session, name);
  await writeFile(file.hostPath, prompt, 'utf8');
  return file;
}

/**
 * Reads a file the command left in scratch; undefined when absent. At most `maxBytes` are read so a
 * runaway agent cannot hand us an arbitrarily large "summary".
 */
export async function readScratchFile(
  session: SandboxSession,
  name: string,
  maxBytes = 256 * 1024,
): Promise<string | undefined> {
  const { hostPath } = scratchFile(session, name);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(hostPath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buf, 0, maxBytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
    throw error;
  } finally {
    await handle.close();
  }
}

/** Removes a scratch file (e.g. a stale summary from an earlier command in the same session). */
export async function removeScratchFile(session: SandboxSession, name: string): Promise<void> {
  await rm(scratchFile(session, name).hostPath, { force: true });
}

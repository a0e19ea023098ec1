/**
 * Forge's own use of files in the agent's directories (usage totals, where sessions live, the
 * command's summary) must never fail a turn after the agent ran, or its work would not be
 * committed: the agent may have replaced a file with a link, a FIFO or garbage, or removed a
 * directory under our feet. Then the file is ignored and the task log says why, e.g.
 * "forge: did not read the Codex usage totals: /home/agent/.forge is a symbolic link (…)".
 */
import { RefusedPathError } from '../sandbox/safe-fs.js';
import type { AgentRunContext } from './types.js';

/** Runs `work`; on any error notes `what` and why in the task log and returns `fallback`. */
export async function bestEffort<T>(
  ctx: Pick<AgentRunContext, 'onLine'>,
  what: string,
  fallback: T,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    ctx.onLine('stderr', `forge: ${what}: ${refusalText(error)}.`);
    return fallback;
  }
}

/** Why a path in the agent's directories was not used, in words for the task log or a reply. */
export function refusalText(error: unknown): string {
  if (error instanceof RefusedPathError) {
    return error.reason === 'symlink'
      ? `${error.message} (Forge never follows links in the agent's directories)`
      : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A runner's failure when Forge would not write the CLI's configuration (a link or a directory the
 * agent left where it goes, in the task's home). Only configuration is written before the CLI
 * starts; everything after it is best effort, so the CLI never ran.
 */
export function refusedConfiguration(subject: string, error: RefusedPathError): string {
  return `Forge could not write ${subject}'s configuration into the task's home, so the agent did not run: ${refusalText(error)}. A new task starts with a fresh home.`;
}

import { join } from 'node:path';
import { cleanPerson } from '../git/commit-message.js';
import { runGit } from '../git/run-git.js';
import type { GitWorkspace } from '../git/workspace.js';

/** How far back from the branch tip a turn's commit is looked for. */
const SCAN_DEPTH = 50;

export interface FoundTurnCommit {
  sha: string;
  /** Committed as `WIP: …`: the turn did not complete. */
  wip: boolean;
}

/**
 * The commit of turn `n` of the task among the newest commits of the checked-out branch: Forge
 * committed it (as committer) and its message names the turn (`Turn n of Forge task <id>, …`, see
 * `commitMessage`). Finds work a worker pushed just before it died, before it could record it.
 * Reads the checkout's own git dir, so it must run right after the clone, before anything ran in
 * the checkout.
 */
export async function findTurnCommit(
  workspace: GitWorkspace,
  input: { taskId: string; turn: number; committer: { name: string; email: string } },
): Promise<FoundTurnCommit | undefined> {
  const gitDir = join(workspace.dir, '.git');
  const { stdout } = await runGit(
    ['log', '-n', String(SCAN_DEPTH), '--format=%H%x00%ce%x00%B%x1e', 'HEAD', '--'],
    { gitDir, cwd: workspace.dir, safeDirectories: [workspace.dir, gitDir], timeoutMs: 60_000 },
  );
  const email = cleanPerson(input.committer).email.toLowerCase();
  const marker = new RegExp(`^Turn ${input.turn} of Forge task ${input.taskId}, asked by `, 'm');
  for (const entry of stdout.split('\x1e')) {
    const [sha, committer, message] = entry.replace(/^\n/, '').split('\0');
    if (!sha || committer?.toLowerCase() !== email || !message || !marker.test(message)) continue;
    return { sha, wip: message.startsWith('WIP: ') };
  }
  return undefined;
}

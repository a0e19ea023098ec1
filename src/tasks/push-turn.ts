/**
 * Pushing a turn's commit without ever forcing: when someone pushed to the branch while the agent
 * worked, the commit is replayed on the new tip (as `git rebase` would) and pushed again, a few
 * times at most. When it cannot go on the branch, the work is kept on a branch of its own and the
 * reason says where and how to go on.
 */
import type { Logger } from 'pino';
import type { GitCredentials } from '../forge/types.js';
import type { GitWorkspace } from '../git/workspace.js';

const MAX_REBASES = 3;

export interface PushTurnInput {
  workspace: GitWorkspace;
  creds: GitCredentials;
  branch: string;
  /** The turn's commit. */
  sha: string;
  turn: number;
  note(text: string): Promise<unknown>;
  log: Pick<Logger, 'warn'>;
  /**
   * Asked before replaying the commit on a branch that moved: false when the turn's work is on the
   * branch already (another attempt of the turn pushed it), so this commit must not go there too.
   */
  stillWanted?(): Promise<boolean>;
}

export type PushTurnResult =
  | { ok: true; sha: string }
  | { ok: false; error: string }
  /** Another attempt of the turn published its work meanwhile: nothing was pushed. */
  | { ok: false; overtaken: true };

export async function pushTurnCommit(input: PushTurnInput): Promise<PushTurnResult> {
  const { workspace, creds, branch, note, log } = input;
  let sha = input.sha;
  let pushed = await workspace.push(creds, branch);
  let rebases = 0;
  let conflict: string[] | undefined;
  let rebaseFailed = false;
  while (!pushed.ok && pushed.reason === 'rejected_non_fast_forward' && rebases < MAX_REBASES) {
    if (input.stillWanted && !(await input.stillWanted())) return { ok: false, overtaken: true };
    rebases++;
    const rebased = await workspace.rebaseOnto(creds, branch).catch((error: unknown) => {
      log.warn({ err: error }, 'rebase onto the moved branch failed');
      return undefined;
    });
    if (!rebased) {
      rebaseFailed = true;
      break;
    }
    if (!rebased.ok) {
      conflict = rebased.conflict;
      const files = conflict.length ? ` in ${conflict.join(', ')}` : '';
      await note(
        `${branch} moved to ${rebased.onto.slice(0, 7)} during the turn; rebasing onto it conflicts${files}`,
      );
      break;
    }
    await note(
      `${branch} moved to ${rebased.onto.slice(0, 7)} during the turn: rebased ${sha.slice(0, 7)} onto it as ${rebased.sha.slice(0, 7)}`,
    );
    sha = rebased.sha;
    pushed = await workspace.push(creds, branch);
  }
  if (pushed.ok) return { ok: true, sha };

  // Keep the work on a branch of its own (HEAD: the turn's commit, as it was on conflict).
  const rescue = `${branch}-turn-${input.turn}`;
  const second = await workspace.push(creds, rescue);
  if (second.ok) await note(`pushed the work to ${rescue} instead`);
  const kept = second.ok
    ? ` Nothing was pushed to \`${branch}\`; the work is kept on branch \`${rescue}\`.`
    : '';
  if (conflict) {
    const shown = conflict.slice(0, 10).map((f) => `\`${f}\``);
    if (conflict.length > shown.length) shown.push(`and ${conflict.length - shown.length} more`);
    const files = shown.length ? ` in ${shown.join(', ')}` : '';
    const next = second.ok
      ? ` To continue, merge \`${rescue}\` into \`${branch}\` (or rebase it onto \`${branch}\`) and resolve the conflicts, or ask Forge again now that the branch has the new commits.`
      : ' To continue, ask Forge again now that the branch has the new commits.';
    return {
      ok: false,
      error: `Forge could not push to \`${branch}\`: the branch moved while the agent worked and the new commits conflict with this turn's changes${files}.${kept}${next}`,
    };
  }
  const why =
    pushed.reason !== 'rejected_non_fast_forward'
      ? 'the push was refused'
      : rebaseFailed
        ? 'the branch moved while the agent worked and Forge could not rebase onto it'
        : `the branch kept moving while the agent worked (rebased onto it ${rebases} times)`;
  return { ok: false, error: `Forge could not push to \`${branch}\`: ${why}.${kept}` };
}

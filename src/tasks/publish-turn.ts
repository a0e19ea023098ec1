import { conversationOf, refOf } from '../forge/conversation.js';
import type { ForgeWords } from '../forge/types.js';
import { renderPullRequestBody } from '../progress/render.js';
import type { PreparedTurn } from './prepare-turn.js';
import { pushTurnCommit } from './push-turn.js';
import type { TurnRun } from './turn-run.js';
import type { Task, Turn } from './types.js';

/**
 * The agent's work, published: committed (as WIP when the turn did not complete) and pushed, and
 * the change request opened on the first push. A plan turn publishes nothing and lists what the
 * agent changed anyway.
 */
export async function publishTurn(run: TurnRun, prepared: PreparedTurn): Promise<void> {
  const { deps, forge, patch } = run;
  const { workspace, creds } = prepared;
  if (prepared.planning) {
    // The user asked for a plan, not for changes: nothing is committed, and anything the agent
    // changed anyway is left out and listed.
    const changed = await workspace.changedFiles();
    if (changed.length) {
      patch.discardedPaths = changed.map((p) => p.replace(/\/$/, ''));
      await run.note(`plan turn: left out ${changed.length} file(s) the agent changed`);
    }
    return;
  }
  // Whatever happened, the agent's work is kept.
  run.setPhase('pushing');
  const wip = run.outcome.state !== 'completed';
  const commit = await workspace.commitAll({
    message: commitMessage(run.task, run.turn, wip, forge.words),
    authorName: deps.gitAuthor.name,
    authorEmail: deps.gitAuthor.email,
    coAuthors: [coAuthor(run.turn, forge.words)],
    ...(forge.words.unpushable ? { exclude: forge.words.unpushable.matches } : {}),
  });
  if (commit?.excluded.length) patch.excludedPaths = commit.excluded;
  if (!commit?.sha) {
    patch.noChanges = true;
    await run.note('no changes to commit');
    return;
  }
  const pushed = await pushTurnCommit({
    workspace,
    creds,
    branch: run.task.branch!,
    sha: commit.sha,
    turn: run.n,
    note: (text) => run.note(text),
    log: run.log,
  });
  if (!pushed.ok) {
    run.outcome = { state: 'failed', endReason: 'push_rejected', error: pushed.error };
    return;
  }
  const { sha } = pushed;
  patch.commitSha = sha;
  run.checkSha = sha;
  await run.note(`pushed ${sha.slice(0, 7)} to ${run.task.branch}`);
  if (!run.task.changeRequest) {
    const draft =
      (prepared.settings.pullRequests
        ? prepared.settings.pullRequests === 'draft'
        : deps.draftPullRequests) || wip;
    await openChangeRequest(run, draft);
  }
}

async function openChangeRequest(run: TurnRun, draft: boolean): Promise<void> {
  const { deps, forge } = run;
  run.setPhase('change_request');
  const task = run.task;
  const cr = await forge.createChangeRequest({
    head: task.branch!,
    base: task.repo.defaultBranch,
    title: oneLineTitle(task, run.turn),
    body: deps.redactor.redact(renderPullRequestBody(task, { ...run.turn, ...run.patch }, forge.words)),
    draft,
  });
  await run.update((t) => {
    t.changeRequest = { number: cr.number, url: cr.url };
  });
  await deps.store.indexChangeRequest(run.task, cr.number);
  await run.note(`opened ${forge.words.changeRequestShort} ${forge.words.changeRequestRef(cr.number)}`);
}

/** The turn's commit message; its second paragraph names the turn (`Turn n of Forge task <id>`). */
export function commitMessage(task: Task, turn: Turn, wip: boolean, words: ForgeWords): string {
  const title = `${wip ? 'WIP: ' : ''}${turn.instruction.replace(/\s+/g, ' ').trim().slice(0, 64) || task.issueTitle.slice(0, 64)}`;
  return `${title}\n\nTurn ${turn.n} of Forge task ${task.id}, asked by @${turn.requestedBy} on ${refOf(words, conversationOf(turn.place))}.`;
}

function coAuthor(turn: Turn, words: ForgeWords): { name: string; email: string } {
  return { name: turn.requestedBy, email: words.noreplyEmail(turn.requestedBy, turn.requestedById) };
}

function oneLineTitle(task: Task, turn: Turn): string {
  const base = task.issueTitle.trim() || turn.instruction;
  return base.replace(/\s+/g, ' ').slice(0, 120);
}

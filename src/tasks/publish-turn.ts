import type { RepoSettings } from '../config/repo-settings.js';
import { conversationOf, refOf } from '../forge/conversation.js';
import type { ForgeWords } from '../forge/types.js';
import { renderPullRequestBody } from '../progress/render.js';
import type { PreparedTurn } from './prepare-turn.js';
import { pushTurnCommit } from './push-turn.js';
import { adoptPublished, checkFence, recordPublished, Superseded } from './turn-fence.js';
import type { TurnRun } from './turn-run.js';
import type { Task, Turn } from './types.js';

/**
 * The agent's work, published: committed (as WIP when the turn did not complete) and pushed, and
 * recorded on the turn at once (`Turn.published`). A plan turn publishes nothing and lists what the
 * agent changed anyway. Only the attempt that owns the turn pushes (see turn-fence.ts).
 */
export async function publishTurn(run: TurnRun, prepared: PreparedTurn): Promise<void> {
  const { deps, forge, patch } = run;
  const { workspace, creds } = prepared;
  if (run.superseded?.why === 'newer_attempt') throw run.superseded;
  if (prepared.planning) {
    // The user asked for a plan, not for changes: nothing is committed, and anything the agent
    // changed anyway is left out and listed.
    const changed = await workspace.changedFiles();
    if (changed.length) {
      patch.discardedPaths = changed.map((p) => p.replace(/\/$/, ''));
      await run.note(`plan turn: left out ${changed.length} file(s) the agent changed`);
    }
    await record(run);
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
    await record(run);
    return;
  }
  // The last moment to find out that a newer attempt owns the turn (Superseded is thrown), or that
  // an earlier one's work is already on the branch.
  const fence = await checkFence(run).catch(async (error: unknown) => {
    if (error instanceof Superseded && error.why === 'finished') await keepAside(run, prepared, commit.sha);
    throw error;
  });
  if (fence === 'published') return adoptEarlier(run);
  const pushed = await pushTurnCommit({
    workspace,
    creds,
    branch: run.task.branch!,
    sha: commit.sha,
    turn: run.n,
    note: (text) => run.note(text),
    log: run.log,
    stillWanted: async () => (await checkFence(run)) === 'owner',
  });
  if ('overtaken' in pushed) return adoptEarlier(run);
  if (!pushed.ok) {
    run.outcome = { state: 'failed', endReason: 'push_rejected', error: pushed.error };
  } else {
    patch.commitSha = pushed.sha;
    run.checkSha = pushed.sha;
    await run.note(`pushed ${pushed.sha.slice(0, 7)} to ${run.task.branch}`);
  }
  // Recorded right after the push: a worker that dies from here on leaves a turn to finish, not
  // one to run again.
  await record(run, { pushed: true });
}

/** Records the published work; only the owner records what it did not push. */
async function record(run: TurnRun, how: { pushed?: boolean } = {}): Promise<void> {
  if (!how.pushed && (await checkFence(run)) === 'published') return adoptEarlier(run);
  const kept = await recordPublished(run);
  if (kept && kept.attemptId !== run.attemptId)
    run.log.warn({ kept: kept.patch.commitSha }, 'another attempt of the turn published its work first');
}

/**
 * The turn was ended elsewhere while this attempt worked (its job was given up on): the commit
 * goes on a branch of its own rather than on the turn's, so the work is not lost.
 */
async function keepAside(run: TurnRun, prepared: PreparedTurn, sha: string): Promise<void> {
  const aside = `${run.task.branch}-turn-${run.n}`;
  const pushed = await prepared.workspace.push(prepared.creds, aside).catch((error: unknown) => {
    run.log.warn({ err: error }, 'could not keep the work of an ended turn');
    return { ok: false };
  });
  if (pushed.ok)
    await run.note(
      `turn ${run.n} was ended while this attempt worked: its commit ${sha.slice(0, 7)} is kept on ${aside}`,
    );
}

async function adoptEarlier(run: TurnRun): Promise<void> {
  const earlier = run.turn.published!;
  await run.note(
    `turn ${run.n}: an earlier attempt published its work first${earlier.patch.commitSha ? ` (${earlier.patch.commitSha.slice(0, 7)})` : ''}; this attempt's changes are dropped`,
  );
  adoptPublished(run, earlier);
}

/**
 * After a push: opens the change request on the task's first one; on later ones brings the
 * description of a change request Forge opened up to date (the latest turn's summary and cost).
 */
export async function shareChangeRequest(run: TurnRun, settings: RepoSettings): Promise<void> {
  const sha = run.patch.commitSha;
  if (!sha) return;
  // Only the attempt that owns the turn writes to the change request.
  await checkFence(run);
  const { deps, forge } = run;
  const cr = run.task.changeRequest;
  if (!cr) {
    const wip = run.outcome.state !== 'completed';
    const draft = (settings.pullRequests ? settings.pullRequests === 'draft' : deps.draftPullRequests) || wip;
    await openChangeRequest(run, draft);
    return;
  }
  if (!cr.openedByForge) return;
  // The description is Forge's; a failed edit leaves a stale one, never a failed turn.
  await forge
    .updateChangeRequest(cr.number, { body: pullRequestBody(run) })
    .then(() => run.reporter.writes++)
    .catch((error: unknown) => run.log.warn({ err: error }, 'could not update the change request'));
}

async function openChangeRequest(run: TurnRun, draft: boolean): Promise<void> {
  const { deps, forge } = run;
  run.setPhase('change_request');
  const task = run.task;
  const cr = await forge.createChangeRequest({
    head: task.branch!,
    base: task.repo.defaultBranch,
    title: oneLineTitle(task, run.turn),
    body: pullRequestBody(run),
    draft,
  });
  await run.update((t) => {
    t.changeRequest = { number: cr.number, url: cr.url, openedByForge: true };
  });
  await deps.store.indexChangeRequest(run.task, cr.number);
  await run.note(`opened ${forge.words.changeRequestShort} ${forge.words.changeRequestRef(cr.number)}`);
}

function pullRequestBody(run: TurnRun): string {
  // The turn is still running in the store; the body describes how it ends.
  const { state, error } = run.outcome;
  const turn = { ...run.turn, ...run.patch, state, ...(error ? { error } : {}) };
  return run.deps.redactor.redact(renderPullRequestBody(run.task, turn, run.forge.words));
}

/** The turn's commit message; its second paragraph names the turn (see findTurnCommit). */
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

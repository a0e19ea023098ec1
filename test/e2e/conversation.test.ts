import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, REPO, REPO_REF, useHarness } from './harness.js';

/** Conversation commands end to end: `/forge plan`, `/forge approve` and `/forge continue`. */
describe('conversation commands: plan, approve, continue', () => {
  let h: Harness;
  const stickyOf = (issue: number, taskId: string) =>
    h.github.comments(REPO, issue).find((c) => c.body.includes(`<!-- forge:task:${taskId}:${issue} -->`));
  const forgeBranches = async (issue: number) =>
    Object.keys(await h.git.branches(`${REPO}.git`)).filter((b) => b.startsWith(`forge/${issue}-`));
  /** Waits for a plain reply (not the sticky) on `issue` matching `pattern`. */
  const replyMatching = (issue: number, pattern: RegExp) =>
    waitFor(
      () =>
        h.github
          .comments(REPO, issue)
          .find(
            (c) =>
              c.user === 'forge-test[bot]' && !c.body.includes('<!-- forge:task:') && pattern.test(c.body),
          ),
      15_000,
      { what: `a reply matching ${pattern} on #${issue}` },
    );

  useHarness((started) => {
    h = started;
  });

  test('plan posts the plan and creates nothing; approve runs it with the plan and the edits', async () => {
    const issue = h.newIssue('Add a changelog');
    await h.comment({ number: issue, body: '/forge plan add a changelog entry [plan] [prompt]' });
    const planned = await h.settled(issue);
    const planTurn = planned.turns[0]!;
    assert.equal(planTurn.state, 'completed', planTurn.error);
    assert.equal(planTurn.mode, 'plan');
    assert.match(planTurn.summary ?? '', /PLAN-7f3a/);
    assert.equal(planTurn.commitSha, undefined);
    assert.equal(planTurn.discardedPaths, undefined);
    assert.equal(planned.pendingPlan, 1);
    assert.equal(planned.state, 'awaiting_instruction');
    assert.equal(planned.changeRequest, undefined, 'no PR');
    assert.equal(planned.branch, undefined, 'no branch chosen');
    assert.deepEqual(await forgeBranches(issue), [], 'no branch pushed');
    assert.equal(h.github.pulls(REPO).length, 0);
    const sticky = stickyOf(issue, planned.id);
    assert.ok(sticky, 'the sticky comment exists');
    assert.match(sticky.body, /📝 Plan ready/);
    assert.match(sticky.body, /### Plan\n/);
    assert.match(sticky.body, /PLAN-7f3a: 1\. Create CHANGES\.md/);
    assert.match(sticky.body, /Question: should entries be dated\?/);
    assert.match(sticky.body, /`\/forge approve`/);

    await h.comment({ number: issue, body: '/forge approve, and date the entries\nUse ISO dates.' });
    const task = await h.settled(issue, 2);
    assert.equal(task.id, planned.id, 'same task');
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.mode, 'approve');
    assert.equal(turn.instruction, planTurn.instruction, "the plan's instruction");
    assert.deepEqual(turn.approvedPlan, {
      turn: 1,
      plan: planTurn.summary,
      edits: 'and date the entries\nUse ISO dates.',
    });
    assert.equal(task.pendingPlan, undefined, 'approving uses the plan up');
    const pulls = h.github.pulls(REPO).filter((p) => p.head === task.branch);
    assert.equal(pulls.length, 1, 'the approved turn opens the PR');
    assert.equal(task.changeRequest?.number, pulls[0]!.number);
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      '- add a changelog entry [plan] [prompt]\n',
    );
    const prompt = await h.git.fileAt(`${REPO}.git`, task.branch!, 'prompt-dump.txt');
    assert.ok(prompt, 'the agent wrote out its prompt');
    assert.match(prompt, /## The approved plan \(written by the agent in turn 1\)/);
    assert.match(prompt, /was written by the agent in an earlier turn/);
    assert.ok(prompt.includes(planTurn.summary!.trim()), 'the plan is in the prompt');
    assert.match(prompt, /## Changes to the plan[\s\S]*and date the entries\nUse ISO dates\./);
    assert.doesNotMatch(prompt, /## Plan only/, 'the approved turn is not a plan turn');
    const done = stickyOf(issue, task.id);
    assert.match(done!.body, /✅ Done/);
    assert.match(done!.body, /runs the plan of turn 1, with changes/);

    // The plan is used up: a second approve is answered, not run.
    await h.comment({ number: issue, body: '/forge approve' });
    await replyMatching(issue, /no plan waiting for approval/);
    assert.equal((await h.forge.store.findByNumber(REPO_REF, issue))?.turns.length, 2);
  });

  test('a plan turn whose agent changes files anyway commits nothing and says what it left out', async () => {
    const issue = h.newIssue('Sneaky');
    await h.comment({ number: issue, body: '/forge plan tidy the readme [prompt]' });
    const task = await h.settled(issue);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.commitSha, undefined);
    assert.deepEqual([...(turn.discardedPaths ?? [])].sort(), ['CHANGES.md', 'prompt-dump.txt']);
    assert.deepEqual(await forgeBranches(issue), [], 'nothing pushed');
    assert.equal(task.changeRequest, undefined);
    const sticky = stickyOf(issue, task.id);
    assert.match(
      sticky!.body,
      /\*\*Left out:\*\* the agent changed files although a plan turn changes nothing/,
    );
    assert.match(sticky!.body, /`CHANGES\.md`/);
  });

  test('/forge continue after /forge stop runs a new turn that builds on the WIP commit', async () => {
    const issue = h.newIssue('Long job');
    await h.comment({ number: issue, body: '/forge a long job [slow:30] [prompt]' });
    await waitFor(async () => {
      const task = await h.forge.store.findByNumber(REPO_REF, issue);
      return task && (await h.forge.store.events(task.id)).some((e) => e.text.includes('working… 3'));
    }, 15_000);
    await h.comment({ number: issue, body: '/forge stop' });
    const stopped = await h.settled(issue, 1, 20_000);
    const first = stopped.turns[0]!;
    assert.equal(first.state, 'cancelled');
    assert.ok(first.commitSha, 'the WIP commit');
    const stoppedSticky = stickyOf(issue, stopped.id);
    assert.match(stoppedSticky!.body, /`\/forge continue`/);

    const started = Date.now();
    await h.comment({ number: issue, body: '/forge continue' });
    const task = await h.settled(issue, 2, 20_000);
    assert.ok(Date.now() - started < 15_000, 'the continuation does not redo the slow part');
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.mode, 'continue');
    assert.equal(turn.instruction, first.instruction);
    assert.deepEqual(turn.continues, {
      turn: 1,
      state: 'cancelled',
      endReason: 'stopped',
      commitSha: first.commitSha,
    });
    const log = await h.git.log(`${REPO}.git`, task.branch!, 2);
    assert.deepEqual(
      log.map((c) => c.sha),
      [turn.commitSha, first.commitSha],
      'the new commit sits on the WIP commit',
    );
    assert.doesNotMatch(log[0]!.message, /^WIP/);
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      '- a long job [slow:30] [prompt]\n- finished: a long job [slow:30] [prompt]\n',
    );
    const prompt = await h.git.fileAt(`${REPO}.git`, task.branch!, 'prompt-dump.txt');
    assert.match(prompt ?? '', /## Continue the interrupted turn/);
    assert.match(prompt ?? '', /turn 1\) was stopped before it finished: it was interrupted/);
    assert.ok(
      prompt?.includes(`already on the branch (commit ${first.commitSha!.slice(0, 7)}`),
      'the prompt names the WIP commit',
    );
    assert.equal(h.github.pulls(REPO).filter((p) => p.head === task.branch).length, 1, 'still one PR');
  });

  test('approve without a pending plan gets a one-line reply and starts nothing', async () => {
    const issue = h.newIssue('No plan');
    await h.comment({ number: issue, body: '/forge approve' });
    const reply = await replyMatching(issue, /no plan waiting for approval/);
    assert.match(reply.body, /`\/forge plan <instruction>` first/);
    assert.doesNotMatch(reply.body, /\n/);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'no task was created');
  });

  test('continue with nothing to continue gets a one-line reply', async () => {
    const issue = h.newIssue('Nothing to continue');
    await h.comment({ number: issue, body: '/forge continue' });
    const none = await replyMatching(issue, /nothing to continue here/);
    assert.doesNotMatch(none.body, /\n/);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'no task was created');

    await h.comment({ number: issue, body: '/forge do it' });
    await h.settled(issue);
    await h.comment({ number: issue, body: '/forge continue' });
    await replyMatching(issue, /The last turn \(turn 1\) completed, so there is nothing to continue/);
    await h.quiet();
    assert.equal((await h.forge.store.findByNumber(REPO_REF, issue))?.turns.length, 1);
  });
});

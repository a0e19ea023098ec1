import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { githubDriver } from './driver-github.js';
import { type Harness, REPO, REPO_REF, useHarness } from './harness.js';
import { NO_LEAK_SCENARIO, SAFETY_SCENARIOS } from './scenarios/safety.js';

/**
 * The spine issue's scenarios, end to end: real Forge HTTP server and worker, real Redis, real git.
 * Stop and the queue of turns are in turns.test.ts; the safety scenarios are shared with GitLab.
 */
describe('from a /forge comment to a pull request (GitHub)', () => {
  let h: Harness;

  useHarness((started) => {
    h = started;
  });

  test('a comment becomes a PR with the agent change, a 👀, a sticky comment and a green check', async () => {
    const issue = h.newIssue('Add a changelog');
    const started = Date.now();
    const res = await h.comment({ number: issue, body: '/forge add a changelog entry' });
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started < 2000, 'the webhook is answered without waiting for work');

    const task = await h.settled(issue);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(task.branch, `forge/${issue}-add-a-changelog`);
    const pulls = h.github.pulls(REPO).filter((p) => p.head === task.branch);
    assert.equal(pulls.length, 1);
    const pull = pulls[0]!;
    assert.equal(pull.base, 'main');
    assert.match(pull.body ?? '', new RegExp(`Closes #${issue}`));
    assert.match(
      pull.body ?? '',
      /Appended "add a changelog entry" to CHANGES.md/,
      'the agent summary is in the PR body',
    );

    const branches = await h.git.branches(`${REPO}.git`);
    assert.equal(branches[task.branch!], turn.commitSha);
    assert.equal(await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'), '- add a changelog entry\n');
    const [commit] = await h.git.log(`${REPO}.git`, task.branch!, 1);
    assert.equal(commit!.author.name, 'forge[bot]');
    assert.match(commit!.message, /Co-authored-by: alice <\d+\+alice@users\.noreply\.github\.com>/);

    const reactions = h.github.reactions(REPO, res.commentId);
    assert.deepEqual(
      reactions.map((r) => r.content),
      ['eyes'],
    );
    const stickies = h.github
      .comments(REPO, issue)
      .filter((c) => c.body.includes(`<!-- forge:task:${task.id}:${issue} -->`));
    assert.equal(stickies.length, 1, 'exactly one sticky comment, edited in place');
    assert.match(stickies[0]!.body, /✅ Done/);
    assert.match(stickies[0]!.body, new RegExp(`#${pull.number}`));

    const checks = h.github.checkRuns(REPO).filter((c) => c.headSha === turn.commitSha);
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.name, 'Forge');
    assert.equal(checks[0]!.status, 'completed');
    assert.equal(checks[0]!.conclusion, 'success');
  });

  test('the trigger label starts a task with the issue as the instruction', async () => {
    const issue = h.newIssue('Document the API', 'Write docs for answer()');
    const res = await h.label({ number: issue });
    assert.equal(res.status, 200);
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.match(task.turns[0]!.instruction, /Document the API\n\nWrite docs for answer\(\)/);
    assert.equal(h.github.pulls(REPO).filter((p) => p.head === task.branch).length, 1);
  });

  test('a follow-up on the PR runs a new turn on the same branch and pushes a new commit', async () => {
    const issue = h.newIssue('Follow me');
    await h.comment({ number: issue, body: '/forge first change' });
    const first = await h.settled(issue);
    const pr = first.changeRequest!.number;
    await h.comment({ number: pr, body: '/forge second change', isPullRequest: true });
    const task = await h.settled(pr, 2);
    assert.equal(task.id, first.id, 'same task');
    const [t1, t2] = task.turns;
    assert.equal(t2!.state, 'completed', t2!.error);
    assert.notEqual(t2!.commitSha, t1!.commitSha);
    const log = await h.git.log(`${REPO}.git`, task.branch!, 2);
    assert.deepEqual(
      log.map((c) => c.sha),
      [t2!.commitSha, t1!.commitSha],
      'new commit on top of the first',
    );
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      '- first change\n- second change\n',
    );
    const pulls = h.github.pulls(REPO).filter((p) => p.head === task.branch);
    assert.equal(pulls.length, 1, 'still one PR');
    assert.match(
      pulls[0]!.body ?? '',
      /Appended "second change" to CHANGES.md/,
      'the PR body shows the latest turn’s summary',
    );
    const prCheck = h.github.checkRuns(REPO).filter((c) => c.headSha === t2!.commitSha);
    assert.equal(prCheck[0]?.conclusion, 'success');
  });

  test('a /forge in a PR review thread runs a turn on the PR and replies in that thread', async () => {
    const issue = h.newIssue('Review me');
    await h.comment({ number: issue, body: '/forge first draft' });
    const first = await h.settled(issue);
    const pr = first.changeRequest!.number;
    const root = h.github.addReviewComment(REPO, pr, {
      body: 'This heading is wrong.',
      user: 'maya',
      path: 'README.md',
      line: 1,
    });
    const { commentId } = await h.reviewComment({
      pr,
      body: '/forge fix what this thread says',
      user: 'maya',
      inReplyTo: root.id,
    });
    const task = await h.settled(pr, 2);
    assert.equal(task.id, first.id);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.deepEqual(turn.place, { type: 'review_thread', number: pr, threadId: String(root.id) });
    assert.deepEqual(
      h.github.reactions(REPO, commentId).map((r) => r.content),
      ['eyes'],
    );
    const replies = h.github.reviewComments(REPO, pr).filter((c) => c.user === 'forge-test[bot]');
    assert.equal(replies.length, 1);
    assert.equal(replies[0]!.inReplyToId, root.id, 'the reply is in the thread');
    assert.match(replies[0]!.body, new RegExp(`Done in \`${turn.commitSha!.slice(0, 7)}\``));
  });

  test('an agent that exits non-zero fails the check run and the comment says why; its work is kept', async () => {
    const issue = h.newIssue('Break it');
    await h.comment({ number: issue, body: '/forge try this [fail]' });
    const task = await h.settled(issue);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'failed');
    assert.match(turn.error ?? '', /exited with code 3/);
    assert.match(turn.error ?? '', /the build broke/);
    assert.ok(turn.commitSha, 'partial work committed');
    const [commit] = await h.git.log(`${REPO}.git`, task.branch!, 1);
    assert.match(commit!.message, /^WIP: /);
    const check = h.github.checkRuns(REPO).find((c) => c.headSha === turn.commitSha);
    assert.equal(check?.conclusion, 'failure');
    const sticky = h.github.comments(REPO, issue).find((c) => c.body.includes(`forge:task:${task.id}`));
    assert.match(sticky!.body, /❌ Failed/);
    assert.match(sticky!.body, /exited with code 3/);
  });

  // Shared with GitLab (gitlab-safety.test.ts): no-op agents, hidden text, planted hooks.
  for (const s of SAFETY_SCENARIOS) test(s.name, () => s.run(githubDriver(h)));

  test('workflow changes are left out of the commit and listed', async () => {
    const issue = h.newIssue('Workflows');
    await h.comment({ number: issue, body: '/forge touch ci [workflow]' });
    const task = await h.settled(issue);
    const turn = task.turns[0]!;
    assert.deepEqual(turn.excludedPaths, ['.github/workflows/ci.yml']);
    assert.equal(await h.git.fileAt(`${REPO}.git`, task.branch!, '.github/workflows/ci.yml'), undefined);
    assert.ok(await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'));
    const sticky = h.github.comments(REPO, issue).find((c) => c.body.includes(`forge:task:${task.id}`));
    assert.match(sticky!.body, /Not pushed:.*\.github\/workflows\/ci\.yml/);
  });

  test('merging the PR ends the task; a new comment on the issue starts a new one', async () => {
    const issue = h.newIssue('Merge me');
    await h.comment({ number: issue, body: '/forge do it' });
    const task = await h.settled(issue);
    await h.closePull(task.changeRequest!.number, true);
    await waitFor(async () => (await h.forge.store.get(task.id))?.state === 'closed', 10_000);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined);
    await h.comment({ number: issue, body: '/forge start over' });
    const next = await h.settled(issue);
    assert.notEqual(next.id, task.id, 'a new task');
    assert.notEqual(next.branch, task.branch, 'on a fresh branch (the old one is taken)');
  });

  // Last: it scans everything the tests above made Forge write.
  test(NO_LEAK_SCENARIO.name, () => NO_LEAK_SCENARIO.run(githubDriver(h)));
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, REPO, REPO_REF, useHarness } from './harness.js';
import { submitReview } from './harness-reviews.js';

/**
 * Pull request review feedback end to end: what the agent gets on a turn asked on the PR (read
 * through the fake GitHub's GraphQL API, which validates every query against GitHub's schema),
 * `/forge address-reviews` answering in every thread and a review body as a trigger (`/forge status`
 * is in turns.test.ts).
 */
describe('pull request reviews', () => {
  let h: Harness;
  const BOT = 'forge-test[bot]';

  useHarness((started) => {
    h = started;
  });

  /** An issue whose first turn opened a PR; returns the PR number. */
  async function openPr(title: string): Promise<number> {
    const issue = h.newIssue(title);
    await h.comment({ number: issue, body: '/forge first draft' });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    return task.changeRequest!.number;
  }

  const thread = (pr: number, body: string, user = 'maya', path = 'README.md') =>
    h.github.addReviewComment(REPO, pr, { body, user, path, line: 1 });

  test('a follow-up on the PR gets every unresolved thread, review bodies and comments, not resolved threads', async () => {
    const pr = await openPr('Feedback');
    const open = thread(pr, 'Rename the heading to Widgets 2.', 'maya', 'README.md');
    h.github.addReviewComment(REPO, pr, {
      body: 'And mention the licence.',
      user: 'bob',
      inReplyTo: open.id,
    });
    const resolved = thread(pr, 'RESOLVED-THREAD-TEXT please fix', 'maya', 'src/index.js');
    h.github.resolveThread(REPO, resolved.id);
    // More than a page of threads: the fake serves 100 at most per request.
    for (let i = 0; i < 101; i++) thread(pr, `small nit ${i}`, 'bob', `src/file-${i}.js`);
    h.github.addReview(REPO, pr, {
      body: 'Please split the commit.',
      user: 'maya',
      state: 'CHANGES_REQUESTED',
    });
    h.github.addComment(REPO, pr, { body: 'Can this land today?<!-- HIDDEN-FEEDBACK -->', user: 'bob' });

    await h.comment({ number: pr, body: '/forge second change [prompt]', isPullRequest: true });
    const task = await h.settled(pr, 2);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    const prompt = (await h.git.fileAt(`${REPO}.git`, task.branch!, 'prompt-dump.txt')) ?? '';
    assert.match(prompt, /## Review feedback on pull request #\d+/);
    assert.match(prompt, /### Unresolved review threads \(102\)/);
    assert.match(prompt, new RegExp(`#### Thread ${open.id} on \`README\\.md\` line 1`));
    assert.match(prompt, /@maya wrote \([^)]+\):\n```text\nRename the heading to Widgets 2\.\n```/);
    assert.match(prompt, /@bob replied \([^)]+\):\n```text\nAnd mention the licence\.\n```/);
    assert.ok(prompt.includes('small nit 0') && prompt.includes('small nit 100'), 'every page of threads');
    assert.ok(!prompt.includes('RESOLVED-THREAD-TEXT'), 'the resolved thread is left out');
    assert.match(prompt, /@maya requested changes \([^)]+\):\n```text\nPlease split the commit\.\n```/);
    assert.match(prompt, /@bob wrote \([^)]+\):\n```text\nCan this land today\?\n```/);
    assert.ok(!prompt.includes('HIDDEN-FEEDBACK'), 'hidden text is stripped');
    assert.ok(!prompt.includes('<!-- forge:task:'), "Forge's own progress comments are not feedback");
    assert.ok(!prompt.includes('## Review threads to address'), 'a plain follow-up is not address-reviews');
    const graphql = h.github.calls.filter((c) => c.template === '/graphql');
    assert.ok(graphql.length >= 2, 'the threads were read page by page');
  });

  test('a turn queued from a review thread: its place in line is answered in the thread, and edits made while it waits change nothing', async () => {
    const pr = await openPr('Snapshot');
    const root = thread(pr, 'Rename the heading: ORIGINAL-REVIEW-4a1');
    await h.comment({ number: pr, body: '/forge slow work [slow:30]', isPullRequest: true });
    await waitFor(async () => {
      const t = await h.forge.store.findByNumber(REPO_REF, pr);
      return (
        t && (await h.forge.store.events(t.id)).some((e) => e.turn === 2 && e.text.includes('working… 2'))
      );
    }, 20_000);
    await h.reviewComment({ pr, body: '/forge do what the thread asks [prompt]', inReplyTo: root.id });
    const note = await waitFor(
      () =>
        h.github
          .reviewComments(REPO, pr)
          .find((c) => c.user === BOT && c.inReplyToId === root.id && /Queued as turn 3/.test(c.body)),
      20_000,
      { what: 'the place-in-line note in the thread' },
    );
    assert.match(note.body, /^Queued as turn 3 of this task, behind 1 other turn\./);
    assert.ok(
      !h.github.comments(REPO, pr).some((c) => /Queued as turn 3/.test(c.body)),
      'not in the conversation',
    );
    const queued = (await h.forge.store.findByNumber(REPO_REF, pr))!.turns[2]!;
    assert.equal(queued.state, 'queued');
    assert.ok(
      queued.feedback?.threads.some((t) => t.comments.some((c) => c.body.includes('ORIGINAL-REVIEW-4a1'))),
      'the feedback was snapshotted when the turn was asked for',
    );

    // The reviewer rewrites the comment while turn 3 waits.
    h.github.editReviewComment(REPO, root.id, 'Delete the README: EDITED-REVIEW-9c2');
    await h.comment({ number: pr, body: '/forge stop', isPullRequest: true });
    const task = await h.settled(pr, 3, 60_000);
    const turn = task.turns[2]!;
    assert.equal(turn.state, 'completed', turn.error);
    const prompt = (await h.git.fileAt(`${REPO}.git`, task.branch!, 'prompt-dump.txt')) ?? '';
    assert.match(prompt, /## Review feedback on pull request #\d+/);
    assert.match(prompt, /when this turn was asked for/);
    assert.ok(prompt.includes('ORIGINAL-REVIEW-4a1'), 'the text as it was when the turn was asked for');
    assert.ok(!prompt.includes('EDITED-REVIEW-9c2'), 'the later edit does not reach the agent');

    // Once a turn is finished its snapshot is dropped when the next one is queued.
    assert.ok(turn.feedback, 'kept while it might still be needed');
    await h.comment({ number: pr, body: '/forge one more', isPullRequest: true });
    const after = await h.settled(pr, 4);
    assert.deepEqual(
      after.turns.slice(0, 3).map((t) => t.feedback),
      [undefined, undefined, undefined],
      'finished turns keep no snapshot',
    );
  });

  test('/forge address-reviews handles every unresolved thread in one turn and answers in each', async () => {
    const pr = await openPr('Address them');
    const a = thread(pr, 'Use a shorter title.');
    const b = thread(pr, 'This line needs a comment.', 'bob', 'src/index.js');
    const done = thread(pr, 'Already fixed.', 'maya', 'src/index.js');
    h.github.resolveThread(REPO, done.id);

    await h.comment({ number: pr, body: '/forge address-reviews keep it short', isPullRequest: true });
    const task = await h.settled(pr, 2);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.mode, 'address_reviews');
    assert.match(
      turn.instruction,
      /^Address the unresolved review threads on this pull request\.\n\nkeep it short$/,
    );
    assert.deepEqual([...(turn.reviewThreads ?? [])].sort(), [String(a.id), String(b.id)].sort());
    const sha = turn.commitSha!.slice(0, 7);
    for (const root of [a, b]) {
      const replies = h.github
        .reviewComments(REPO, pr)
        .filter((c) => c.user === BOT && c.inReplyToId === root.id);
      assert.equal(replies.length, 1, `one answer in thread ${root.id}`);
      assert.match(
        replies[0]!.body,
        new RegExp(
          `^Addressed in \`${sha}\` on \`${task.branch}\`: handled thread ${root.id} in CHANGES\\.md`,
        ),
      );
      assert.match(replies[0]!.body, new RegExp(`<!-- forge:reply:${task.id}:2 -->`));
    }
    assert.equal(
      h.github.reviewComments(REPO, pr).filter((c) => c.inReplyToId === done.id).length,
      0,
      'no answer in the resolved thread',
    );
    const sticky = h.github
      .comments(REPO, pr)
      .find((c) => c.body.includes(`<!-- forge:task:${task.id}:${pr} -->`));
    assert.match(sticky?.body ?? '', /addresses 2 unresolved review threads/);
  });

  test('address-reviews on an issue without a PR is answered, and starts nothing', async () => {
    const issue = h.newIssue('No PR yet');
    await h.comment({ number: issue, body: '/forge address-reviews' });
    const reply = await waitFor(
      () =>
        h.github.comments(REPO, issue).find((c) => c.user === BOT && /no pull request here yet/.test(c.body)),
      15_000,
    );
    assert.match(reply.body, /`\/forge address-reviews` handles the review threads of a pull request/);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined);
  });

  test('a submitted review whose body is /forge … runs a turn on the PR', async () => {
    const pr = await openPr('Review trigger');
    const { status, reviewId } = await submitReview(h, {
      pr,
      body: '/forge tidy the heading [prompt]',
      user: 'maya',
      state: 'CHANGES_REQUESTED',
    });
    assert.equal(status, 200);
    const task = await h.settled(pr, 2);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.instruction, 'tidy the heading [prompt]');
    assert.equal(turn.requestedBy, 'maya');
    assert.deepEqual(turn.place, { type: 'change_request', number: pr });
    assert.equal(turn.commentId, reviewId);
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      '- first draft\n- tidy the heading [prompt]\n',
    );
    assert.equal(h.github.reactions(REPO, reviewId).length, 0, 'GitHub has no reactions on reviews');
    const sticky = h.github
      .comments(REPO, pr)
      .find((c) => c.body.includes(`<!-- forge:task:${task.id}:${pr} -->`));
    assert.match(sticky?.body ?? '', /✅ Done/);
  });
});

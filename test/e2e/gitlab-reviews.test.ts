import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import {
  GITLAB_REF,
  type GitLabHarness,
  issueOn,
  mrOn,
  PROJECT,
  useGitLabHarness,
} from './gitlab-harness.js';

/**
 * Merge request review feedback on GitLab, end to end: what the agent gets on a turn asked on the
 * MR (its discussions, read page by page from the strict fake GitLab), and `/forge address-reviews`
 * answering in every unresolved discussion.
 */
describe('merge request reviews (GitLab)', () => {
  let h: GitLabHarness;

  useGitLabHarness((started) => {
    h = started;
  });

  const mrNotes = (iid: number) => ({ type: 'merge_request' as const, iid });

  /** An issue whose first turn opened an MR; returns the MR's iid. */
  async function openMr(title: string): Promise<number> {
    const issue = h.newIssue(title);
    await h.note({ on: issueOn(issue), body: '/forge first draft' });
    const task = await h.settled(issueOn(issue));
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    return task.changeRequest!.number;
  }

  const thread = (mr: number, body: string, author = 'maya', path = 'README.md') =>
    h.gitlab.startThread(PROJECT, mr, { body, author, path, line: 1 }).discussionId;

  test('a follow-up on the MR gets every unresolved discussion and the comments, not resolved ones', async () => {
    const mr = await openMr('Feedback');
    const open = thread(mr, 'Rename the heading to Widgets 2.');
    h.gitlab.replyInThread(PROJECT, open, { body: 'And mention the licence.', author: 'alice' });
    const resolved = thread(mr, 'RESOLVED-THREAD-TEXT please fix', 'maya', 'src/index.js');
    h.gitlab.resolveThread(resolved);
    // More than a page of discussions: GitLab serves 100 at most per request.
    for (let i = 0; i < 101; i++) thread(mr, `small nit ${i}`, 'alice', `src/file-${i}.js`);
    // A review's summary is a plain note on GitLab.
    h.gitlab.addNote(PROJECT, mrNotes(mr), { body: 'Please split the commit.', author: 'maya' });
    h.gitlab.addNote(PROJECT, mrNotes(mr), {
      body: 'Can this land today?<!-- HIDDEN-FEEDBACK -->',
      author: 'alice',
    });
    h.gitlab.addNote(PROJECT, mrNotes(mr), {
      body: 'SYSTEM-NOTE added 1 commit',
      author: 'alice',
      system: true,
    });

    await h.note({ on: mrOn(mr), body: '/forge second change [prompt]', user: 'maya' });
    const task = await h.settled(mrOn(mr), 2);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    const prompt = (await h.git.fileAt(`${PROJECT}.git`, task.branch!, 'prompt-dump.txt')) ?? '';
    assert.match(prompt, new RegExp(`## Review feedback on merge request !${mr}\\n`));
    assert.match(prompt, /### Unresolved review threads \(102\)/);
    assert.match(prompt, new RegExp(`#### Thread ${open} on \`README\\.md\` line 1`));
    assert.match(prompt, /@maya wrote \([^)]+\):\n```text\nRename the heading to Widgets 2\.\n```/);
    assert.match(prompt, /@alice replied \([^)]+\):\n```text\nAnd mention the licence\.\n```/);
    assert.ok(
      prompt.includes('small nit 0') && prompt.includes('small nit 100'),
      'every page of discussions',
    );
    assert.ok(!prompt.includes('RESOLVED-THREAD-TEXT'), 'the resolved discussion is left out');
    assert.ok(!prompt.includes('### Reviews'), 'GitLab has no review bodies');
    assert.match(prompt, /@maya wrote \([^)]+\):\n```text\nPlease split the commit\.\n```/);
    assert.match(prompt, /@alice wrote \([^)]+\):\n```text\nCan this land today\?\n```/);
    assert.ok(!prompt.includes('HIDDEN-FEEDBACK'), 'hidden text is stripped');
    assert.ok(!prompt.includes('SYSTEM-NOTE'), 'system notes are not feedback');
    assert.ok(!prompt.includes('<!-- forge:task:'), "Forge's own progress notes are not feedback");
    assert.ok(!prompt.includes('pull request'), 'in GitLab’s words');
    const pages = h.gitlab.calls.filter((c) => c.endpoint === 'mr-discussions/list');
    assert.ok(pages.length >= 2, 'the discussions were read page by page');
  });

  test('/forge address-reviews handles every unresolved discussion in one turn and answers in each', async () => {
    const mr = await openMr('Address them');
    const a = thread(mr, 'Use a shorter title.');
    const b = thread(mr, 'This line needs a comment.', 'alice', 'src/index.js');
    const done = thread(mr, 'Already fixed.', 'maya', 'src/index.js');
    h.gitlab.resolveThread(done);

    await h.note({ on: mrOn(mr), body: '/forge address-reviews keep it short', user: 'maya' });
    const task = await h.settled(mrOn(mr), 2);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.mode, 'address_reviews');
    assert.match(
      turn.instruction,
      /^Address the unresolved review threads on this merge request\.\n\nkeep it short$/,
    );
    assert.deepEqual([...(turn.reviewThreads ?? [])].sort(), [a, b].sort());
    const sha = turn.commitSha!.slice(0, 7);
    for (const id of [a, b]) {
      const notes = h.gitlab.threadNotes(id);
      const replies = notes.filter((n) => n.authorId === h.bot.id);
      assert.equal(replies.length, 1, `one answer in discussion ${id}`);
      assert.match(
        replies[0]!.body,
        new RegExp(`^Addressed in \`${sha}\` on \`${task.branch}\`: handled thread ${id} in CHANGES\\.md`),
      );
      assert.match(replies[0]!.body, new RegExp(`<!-- forge:reply:${task.id}:2 -->`));
    }
    assert.deepEqual(
      h.gitlab.threadNotes(done).map((n) => h.gitlab.usernameOf(n.authorId)),
      ['maya'],
      'no answer in the resolved discussion',
    );
    const sticky = h.gitlab
      .notes(PROJECT, mrNotes(mr))
      .find((n) => n.body.includes(`<!-- forge:task:${task.id}:${mr} -->`));
    assert.match(sticky?.body ?? '', /addresses 2 unresolved review threads/);
    assert.ok(
      h.gitlab.writes().filter((c) => c.endpoint === 'mr-discussions/add-note').length >= 2,
      'answers go through the discussions API',
    );
  });

  test('address-reviews on an issue without an MR is answered in GitLab’s words, and starts nothing', async () => {
    const issue = h.newIssue('No MR yet');
    await h.note({ on: issueOn(issue), body: '/forge address-reviews' });
    const reply = await waitFor(
      () =>
        h.gitlab
          .notes(PROJECT, { type: 'issue', iid: issue })
          .find((n) => n.authorId === h.bot.id && /no merge request here yet/.test(n.body)),
      15_000,
    );
    assert.match(reply.body, /`\/forge address-reviews` handles the review threads of a merge request/);
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
  });
});

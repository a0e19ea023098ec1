import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { type GitLabHarness, issueOn, mrOn, PROJECT, useGitLabHarness } from './gitlab-harness.js';

/** The spine scenarios on GitLab, end to end: real Forge HTTP server and worker, real Redis, real git. */
describe('from a /forge note to a merge request (GitLab, subgroup project)', () => {
  let h: GitLabHarness;

  useGitLabHarness((started) => {
    h = started;
  });

  const stickyOf = (on: { type: 'issue' | 'merge_request'; iid: number }, taskId: string, n: number) =>
    h.gitlab.notes(PROJECT, on).filter((note) => note.body.includes(`<!-- forge:task:${taskId}:${n} -->`));

  test('a note on an issue becomes an MR: Closes #N, 👀, one sticky note edited in place, a green Forge status', async () => {
    const issue = h.newIssue('Add a changelog');
    const started = Date.now();
    const res = await h.note({ on: issueOn(issue), body: '/forge add a changelog entry' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { result: 'queued' });
    assert.ok(Date.now() - started < 2000, 'the webhook is answered without waiting for work');

    const task = await h.settled(issueOn(issue));
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(task.branch, `forge/${issue}-add-a-changelog`);
    const mrs = h.gitlab.mergeRequests(PROJECT).filter((m) => m.sourceBranch === task.branch);
    assert.equal(mrs.length, 1);
    const mr = mrs[0]!;
    assert.equal(task.changeRequest?.number, mr.iid);
    assert.equal(mr.targetBranch, 'main');
    assert.equal(mr.sourceProjectId, mr.projectId);
    assert.match(mr.description, new RegExp(`^Closes #${issue}$`, 'm'), 'GitLab closes the issue on merge');
    assert.match(mr.description, /Appended "add a changelog entry" to CHANGES.md/);
    assert.equal(mr.title, 'Add a changelog', 'not a draft');

    const branches = await h.git.branches(`${PROJECT}.git`);
    assert.equal(branches[task.branch!], turn.commitSha);
    assert.equal(
      await h.git.fileAt(`${PROJECT}.git`, task.branch!, 'CHANGES.md'),
      '- add a changelog entry\n',
    );
    const [commit] = await h.git.log(`${PROJECT}.git`, task.branch!, 1);
    const alice = h.gitlab.user('alice');
    assert.match(
      commit!.message,
      new RegExp(`Co-authored-by: alice <${alice.id}-alice@users\\.noreply\\.127\\.0\\.0\\.1>`),
      'GitLab’s private commit email',
    );
    assert.match(commit!.message, new RegExp(`asked by @alice on #${issue}\\.`));

    assert.deepEqual(
      h.gitlab.awards(res.noteId).map((a) => [a.name, h.gitlab.usernameOf(a.userId)]),
      [['eyes', h.bot.username]],
    );
    const stickies = stickyOf({ type: 'issue', iid: issue }, task.id, issue);
    assert.equal(stickies.length, 1, 'exactly one sticky note');
    assert.equal(stickies[0]!.authorId, h.bot.id);
    assert.match(stickies[0]!.body, /✅ Done/);
    assert.match(stickies[0]!.body, new RegExp(`\\*\\*Merge request:\\*\\* !${mr.iid}`));
    assert.ok(
      h.gitlab
        .writes()
        .some((c) => c.endpoint === 'issue-notes/update' && c.path.endsWith(`/notes/${stickies[0]!.id}`)),
      'the sticky note was edited in place',
    );

    const statuses = h.gitlab.statuses(PROJECT).filter((s) => s.sha === turn.commitSha);
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]!.name, 'Forge');
    assert.equal(statuses[0]!.status, 'success');
    assert.equal(statuses[0]!.ref, task.branch);
    assert.match(statuses[0]!.targetUrl ?? '', new RegExp(`^http://forge\\.test/tasks/${task.id}\\?sig=`));

    const trouble = h.logs.filter((l) => /"level":(40|50|60)/.test(l) && !l.includes('FORGE_SANDBOX=local'));
    assert.deepEqual(trouble, [], 'no warnings or errors on the way');

    // The subgroup path travels URL-encoded as the project id in every call.
    const projectCalls = h.gitlab.calls.filter((c) => c.path.startsWith('/projects/'));
    assert.ok(projectCalls.length > 5);
    assert.ok(projectCalls.every((c) => c.path.startsWith('/projects/acme%2Fplatform%2Fwidgets/')));
  });

  test('the trigger label starts a task with the issue as the instruction', async () => {
    const issue = h.newIssue('Document the API', 'Write docs for answer()');
    const res = await h.label({ iid: issue, previous: ['docs'] });
    assert.equal(res.status, 200);
    const task = await h.settled(issueOn(issue));
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.match(task.turns[0]!.instruction, /Document the API\n\nWrite docs for answer\(\)/);
    assert.equal(h.gitlab.mergeRequests(PROJECT).filter((m) => m.sourceBranch === task.branch).length, 1);
    const again = await h.label({ iid: issue, label: 'docs', previous: ['forge'] });
    assert.equal(again.status, 200, 'another label added: answered, ignored');
  });

  test('a follow-up note on the MR runs a new turn on the same branch; its sticky lives on the MR', async () => {
    const issue = h.newIssue('Follow me');
    await h.note({ on: issueOn(issue), body: '/forge first change' });
    const first = await h.settled(issueOn(issue));
    const mr = first.changeRequest!.number;
    const res = await h.note({ on: mrOn(mr), body: '/forge second change', user: 'maya' });
    const task = await h.settled(mrOn(mr), 2);
    assert.equal(task.id, first.id, 'same task');
    const [t1, t2] = task.turns;
    assert.equal(t2!.state, 'completed', t2!.error);
    assert.deepEqual(t2!.place, { type: 'change_request', number: mr });
    const log = await h.git.log(`${PROJECT}.git`, task.branch!, 2);
    assert.deepEqual(
      log.map((c) => c.sha),
      [t2!.commitSha, t1!.commitSha],
    );
    assert.equal(
      await h.git.fileAt(`${PROJECT}.git`, task.branch!, 'CHANGES.md'),
      '- first change\n- second change\n',
    );
    assert.equal(h.gitlab.mergeRequests(PROJECT).filter((m) => m.sourceBranch === task.branch).length, 1);
    assert.deepEqual(
      h.gitlab.awards(res.noteId).map((a) => a.name),
      ['eyes'],
    );
    assert.equal(stickyOf({ type: 'merge_request', iid: mr }, task.id, mr).length, 1, 'a sticky on the MR');
    // The turn's status hung on the MR's head, then moved to the new commit.
    const onNew = h.gitlab.statuses(PROJECT).filter((s) => s.sha === t2!.commitSha);
    assert.deepEqual(
      onNew.map((s) => s.status),
      ['success'],
    );
    const onOld = h.gitlab
      .statuses(PROJECT)
      .filter((s) => s.sha === t1!.commitSha && s.id !== first.turns[0]!.checkRunId);
    assert.deepEqual(
      onOld.map((s) => s.status),
      ['canceled'],
      'the check on the old head was closed when the turn moved on',
    );
  });

  test('a /forge reply in an MR discussion thread runs a turn and answers in that thread', async () => {
    const issue = h.newIssue('Review me');
    await h.note({ on: issueOn(issue), body: '/forge first draft' });
    const first = await h.settled(issueOn(issue));
    const mr = first.changeRequest!.number;
    const opening = h.gitlab.startThread(PROJECT, mr, {
      body: 'This heading is wrong.',
      author: 'maya',
      path: 'README.md',
      line: 1,
    });
    const res = await h.note({
      on: mrOn(mr),
      body: '/forge fix what this thread says',
      user: 'maya',
      discussionId: opening.discussionId,
    });
    const task = await h.settled(mrOn(mr), 2);
    assert.equal(task.id, first.id);
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.deepEqual(turn.place, { type: 'review_thread', number: mr, threadId: opening.discussionId });
    assert.notEqual(turn.commitSha, first.turns[0]!.commitSha);
    assert.equal(
      (await h.git.branches(`${PROJECT}.git`))[task.branch!],
      turn.commitSha,
      'a new commit on the branch',
    );
    assert.deepEqual(
      h.gitlab.awards(res.noteId).map((a) => a.name),
      ['eyes'],
    );
    const thread = h.gitlab.threadNotes(opening.discussionId);
    assert.deepEqual(
      thread.map((n) => h.gitlab.usernameOf(n.authorId)),
      ['maya', 'maya', h.bot.username],
      'the reply is in the thread',
    );
    assert.match(thread[2]!.body, new RegExp(`Done in \`${turn.commitSha!.slice(0, 7)}\``));
    assert.ok(h.gitlab.writes().some((c) => c.endpoint === 'mr-discussions/add-note'));
  });

  test('merging the MR ends the task; the next note on the issue starts a new one', async () => {
    const issue = h.newIssue('Ship it');
    await h.note({ on: issueOn(issue), body: '/forge ship' });
    const task = await h.settled(issueOn(issue));
    const mr = task.changeRequest!.number;
    const res = await h.closeMergeRequest(mr, true);
    assert.equal(res.status, 200);
    await waitFor(async () => (await h.forge.store.get(task.id))?.state === 'closed', 10_000, {
      what: 'the task to close',
    });
    assert.equal(await h.forge.store.findByNumber({ ...taskRepo(task) }, mrOn(mr)), undefined);
    await h.note({ on: issueOn(issue), body: '/forge one more thing' });
    const next = await h.settled(issueOn(issue));
    assert.notEqual(next.id, task.id, 'a fresh task');
  });

  test('an agent that fails marks the status failed and the sticky says why; the work is kept', async () => {
    const issue = h.newIssue('Break it');
    await h.note({ on: issueOn(issue), body: '/forge try this [fail]' });
    const task = await h.settled(issueOn(issue));
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'failed');
    assert.match(turn.error ?? '', /exited with code 3/);
    assert.ok(turn.commitSha, 'partial work committed');
    const mr = h.gitlab.mergeRequest(PROJECT, task.changeRequest!.number);
    assert.match(mr.title, /^Draft: /, 'a WIP turn opens a draft MR');
    assert.deepEqual(
      h.gitlab
        .statuses(PROJECT)
        .filter((s) => s.sha === turn.commitSha)
        .map((s) => s.status),
      ['failed'],
    );
    const [sticky] = stickyOf({ type: 'issue', iid: issue }, task.id, issue);
    assert.match(sticky!.body, /❌ Failed/);
    assert.match(sticky!.body, /What happened:.*exited with code 3/);
  });
});

function taskRepo(task: { repo: { forge: 'github' | 'gitlab'; path: string } }) {
  return { forge: task.repo.forge, path: task.repo.path, cloneUrl: '', defaultBranch: 'main', webUrl: '' };
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { gitlabPayload, noteOnIssue } from '../kit/gitlab-webhooks.js';
import {
  GITLAB_REF,
  type GitLabHarness,
  issueOn,
  mrOn,
  PROJECT,
  useGitLabHarness,
} from './gitlab-harness.js';

/** The GitLab webhook side end to end: who may trigger, bots, tokens, forks, ignored events (duplicates: gitlab-duplicates.test.ts). */
describe('GitLab webhook intake, authorization and refusals', () => {
  let h: GitLabHarness;

  useGitLabHarness((started) => {
    h = started;
  });

  const botNotes = (iid: number) =>
    h.gitlab.notes(PROJECT, { type: 'issue', iid }).filter((n) => n.authorId === h.bot.id);

  test('Guest and Reporter get one short reply each and nothing runs', async () => {
    for (const user of ['gus', 'rita']) {
      const issue = h.newIssue(`Reader ${user}`);
      await h.quiet();
      const before = h.gitlab.writes().length;
      const res = await h.note({ on: issueOn(issue), body: '/forge do something', user });
      assert.equal(res.status, 200);
      await waitFor(() => botNotes(issue).length > 0, 10_000, { what: `a reply to ${user}` });
      await h.quiet(300);
      const replies = botNotes(issue);
      assert.equal(replies.length, 1);
      assert.match(replies[0]!.body, new RegExp(`^@${user} `));
      assert.match(replies[0]!.body, /Developer role or higher in this project/);
      assert.deepEqual(
        h.gitlab
          .writes()
          .slice(before)
          .map((w) => w.endpoint),
        ['issue-notes/create'],
        'no 👀, no status, no MR',
      );
      assert.equal(h.gitlab.awards(res.noteId).length, 0);
      assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
    }
  });

  test('a Developer through a group (inherited membership) may ask', async () => {
    h.gitlab.setGroupRole('acme', 'gina', 'developer');
    const issue = h.newIssue('Inherited');
    await h.note({ on: issueOn(issue), body: '/forge go', user: 'gina' });
    const task = await h.settled(issueOn(issue));
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.equal(task.requestedBy, 'gina');
  });

  test('bots are ignored silently: Forge itself, access-token bots and users GitLab flags as bots', async () => {
    const issue = h.newIssue('Bots');
    h.gitlab.addUser('renovate-runner', { bot: true });
    h.gitlab.setRole(PROJECT, 'renovate-runner', 'developer');
    await h.quiet();
    const before = h.gitlab.writes().length;
    const self = await h.note({ on: issueOn(issue), body: '/forge loop forever', user: h.bot.username });
    const other = await h.note({ on: issueOn(issue), body: '/forge do it', user: 'project_9_bot_1a2b3c' });
    const flagged = await h.note({ on: issueOn(issue), body: '/forge update deps', user: 'renovate-runner' });
    for (const res of [self, other]) assert.deepEqual(JSON.parse(res.body), { result: 'ignored' });
    // The webhook cannot tell a bot flagged only in GitLab's user record: the event job asks GitLab.
    assert.deepEqual(JSON.parse(flagged.body), { result: 'queued' });
    await waitFor(
      () =>
        h.gitlab.calls.some(
          (c) => c.endpoint === 'users/get' && c.path === `/users/${h.gitlab.user('renovate-runner').id}`,
        ),
      10_000,
      { what: 'the bot lookup' },
    );
    await h.quiet();
    assert.equal(h.gitlab.writes().length, before, 'not a single write');
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
  });

  test('a bad or missing X-Gitlab-Token is 401 and nothing is queued', async () => {
    const issue = h.newIssue('Forged');
    await h.quiet();
    const callsBefore = h.gitlab.calls.length;
    const note = h.gitlab.addNote(
      PROJECT,
      { type: 'issue', iid: issue },
      { body: '/forge evil', author: 'alice' },
    );
    const payload = noteOnIssue({
      project: h.project,
      user: { username: 'alice', id: h.gitlab.user('alice').id },
      note: { id: note.id, body: '/forge evil' },
      issue: { iid: issue, title: 'Forged', description: 'Details.' },
    });
    const wrong = await h.deliver('Note Hook', payload, { token: 'not-the-secret' });
    const missing = await h.deliver('Note Hook', payload, { token: null });
    const longer = await h.deliver('Note Hook', payload, { token: `${'x'.repeat(4096)}` });
    for (const res of [wrong, missing, longer]) assert.equal(res.status, 401);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.gitlab.calls.length, callsBefore, 'no GitLab call');
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
    // The same note with the right token still runs: the refused ones claimed nothing.
    const ok = await h.deliver('Note Hook', payload, { idempotencyKey: wrong.idempotencyKey });
    assert.deepEqual(JSON.parse(ok.body), { result: 'queued' });
    assert.equal((await h.settled(issueOn(issue))).turns.length, 1);
  });

  test('a payload naming a project on another host or port is ignored: the token is never sent there', async () => {
    const issue = h.newIssue('Elsewhere');
    await h.quiet();
    const callsBefore = h.gitlab.calls.length;
    const note = h.gitlab.addNote(
      PROJECT,
      { type: 'issue', iid: issue },
      { body: '/forge go', author: 'alice' },
    );
    const payload = noteOnIssue({
      project: {
        ...h.project,
        cloneUrl: `https://evil.example/${PROJECT}.git`,
        webUrl: `https://evil.example/${PROJECT}`,
      },
      user: { username: 'alice', id: h.gitlab.user('alice').id },
      note: { id: note.id, body: '/forge go' },
      issue: { iid: issue },
    });
    // The same host on another port (here the git server the fake passes git requests to) is another
    // service: Forge's token would leave the instance.
    const otherPort = noteOnIssue({
      project: { ...h.project, cloneUrl: h.git.cloneUrl(`${PROJECT}.git`) },
      user: { username: 'alice', id: h.gitlab.user('alice').id },
      note: { id: note.id, body: '/forge go' },
      issue: { iid: issue },
    });
    for (const body of [payload, otherPort]) {
      const res = await h.deliver('Note Hook', body);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), {
        result: 'ignored',
        reason: 'project not on this GitLab instance',
      });
    }
    assert.ok(
      h.logs.some((l) => l.includes(`"cloneUrl":"${h.git.url}"`) && l.includes('not on GITLAB_URL')),
      'the log names the origin that differs',
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.gitlab.calls.length, callsBefore);
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
  });

  test('a fork’s merge request is refused with one clear note', async () => {
    const mr = h.gitlab.addMergeRequest(PROJECT, {
      sourceBranch: 'feature/from-fork',
      title: 'From a fork',
      author: 'mallory',
      fromProject: 'mallory/widgets',
    });
    await h.note({ on: mrOn(mr.iid), body: '/forge improve this', user: 'maya' });
    await waitFor(
      () =>
        h.gitlab.notes(PROJECT, { type: 'merge_request', iid: mr.iid }).some((n) => n.authorId === h.bot.id),
      10_000,
      { what: 'the refusal' },
    );
    await h.quiet();
    const replies = h.gitlab
      .notes(PROJECT, { type: 'merge_request', iid: mr.iid })
      .filter((n) => n.authorId === h.bot.id);
    assert.equal(replies.length, 1);
    assert.match(replies[0]!.body, /does not run on merge requests from forks/);
    assert.match(replies[0]!.body, /Push the branch to this project/);
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, mrOn(mr.iid)), undefined);
  });

  test('events Forge does not act on get 2xx and queue nothing', async () => {
    const issue = h.newIssue('Noise');
    await h.quiet();
    const callsBefore = h.gitlab.calls.length;
    const author = { username: 'alice', id: h.gitlab.user('alice').id };
    const base = { project: h.project, user: author, issue: { iid: issue } };
    const sends = [
      h.deliver('Push Hook', { object_kind: 'push', ref: 'refs/heads/main' }),
      h.deliver(
        'Note Hook',
        noteOnIssue({ ...base, note: { id: 5001, body: '/forge edited', action: 'update' } }),
      ),
      h.deliver(
        'Note Hook',
        noteOnIssue({ ...base, note: { id: 5002, body: '/forge system', system: true } }),
      ),
      h.deliver('Note Hook', noteOnIssue({ ...base, note: { id: 5003, body: 'just a comment' } })),
      h.deliver('Note Hook', gitlabPayload('note-commit')),
      h.deliver(
        'Confidential Note Hook',
        noteOnIssue({
          ...base,
          note: { id: 5004, body: '/forge secret' },
          issue: { iid: issue, confidential: true },
        }),
      ),
      h.deliver('Issue Hook', gitlabPayload('issue')),
      h.deliver('Merge Request Hook', gitlabPayload('merge-request')),
      h.deliver('Note Hook', '{"object_kind": "note", '),
    ];
    const results = await Promise.all(sends);
    for (const [i, res] of results.entries()) assert.equal(res.status, 200, `#${i}: ${res.body}`);
    assert.deepEqual(JSON.parse(results.at(-1)!.body), { result: 'ignored', reason: 'body is not JSON' });
    const wrongMethod = await fetch(h.webhookUrl);
    assert.equal(wrongMethod.status, 405);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(h.gitlab.calls.length, callsBefore, 'no GitLab call for any of them');
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
  });

  test('/forge help and /forge status answer on the issue', async () => {
    const issue = h.newIssue('Questions');
    await h.note({ on: issueOn(issue), body: '/forge help' });
    await h.note({ on: issueOn(issue), body: '/forge status' });
    await waitFor(() => botNotes(issue).length >= 2, 10_000, { what: 'two answers' });
    const bodies = botNotes(issue).map((n) => n.body);
    assert.ok(
      bodies.some((b) => /\/forge plan/.test(b)),
      'help lists the commands',
    );
    assert.ok(
      bodies.some((b) => /no Forge task here yet/.test(b)),
      'status says there is no task',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { GITLAB_REF, type GitLabHarness, issueOn, PROJECT, useGitLabHarness } from './gitlab-harness.js';

/** `.gitlab/forge.yml` end to end: read from the default branch only, applied, and reported when wrong. */
describe('per-project settings on GitLab (.gitlab/forge.yml)', () => {
  let h: GitLabHarness;

  useGitLabHarness((started) => {
    h = started;
  });

  const settings = (branch: string, files: Record<string, string | null>) =>
    h.git.pushAs(`${PROJECT}.git`, branch, files, 'Forge settings');

  test('read from the default branch only: branch prefix and draft MRs apply; .github/forge.yml is not read', async () => {
    await settings('main', {
      '.gitlab/forge.yml': 'branchPrefix: ai/\npullRequests: draft\n',
      '.github/forge.yml': 'branchPrefix: gh/\n',
    });
    const issue = h.newIssue('Tidy the docs');
    await h.note({ on: issueOn(issue), body: '/forge tidy' });
    const task = await h.settled(issueOn(issue));
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.equal(task.branch, `ai/${issue}-tidy-the-docs`);
    const mr = h.gitlab.mergeRequest(PROJECT, task.changeRequest!.number);
    assert.equal(mr.title, 'Draft: Tidy the docs', 'GitLab’s draft prefix');
    const reads = h.gitlab.calls.filter((c) => c.endpoint === 'files/get-raw');
    assert.ok(reads.length >= 2, 'read by the event job and by the turn');
    for (const read of reads) {
      assert.equal(read.attrs.file_path, '.gitlab/forge.yml');
      assert.equal(read.attrs.ref, 'main');
      assert.ok(read.path.includes('/repository/files/.gitlab%2Fforge.yml/raw'), read.path);
    }

    // A settings file on the MR's branch changes nothing: the follow-up still reads main.
    await settings(task.branch!, { '.gitlab/forge.yml': 'pullRequests: ready\nbranchPrefix: evil/\n' });
    const before = reads.length;
    await h.note({ on: { type: 'change_request', number: mr.iid }, body: '/forge more' });
    await h.settled({ type: 'change_request', number: mr.iid }, 2);
    const later = h.gitlab.calls.filter((c) => c.endpoint === 'files/get-raw').slice(before);
    assert.ok(later.length > 0 && later.every((c) => c.attrs.ref === 'main'));
    await settings('main', { '.gitlab/forge.yml': null, '.github/forge.yml': null });
  });

  test('a bad key is named once on the issue and the turn runs with the valid settings', async () => {
    await settings('main', { '.gitlab/forge.yml': 'colour: blue\ntestCommand: npm test\n' });
    const issue = h.newIssue('Odd settings');
    await h.note({ on: issueOn(issue), body: '/forge go' });
    const task = await h.settled(issueOn(issue));
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    const warnings = h.gitlab
      .notes(PROJECT, { type: 'issue', iid: issue })
      .filter((n) => n.authorId === h.bot.id && n.body.includes('⚠️'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.body, /`\.gitlab\/forge\.yml` \(read from `main`\)/);
    assert.match(warnings[0]!.body, /unknown key `colour`/);
    await settings('main', { '.gitlab/forge.yml': null });
  });

  test('allowedUsers narrows who may ask: a Developer not on the list gets one reply naming the file', async () => {
    await settings('main', { '.gitlab/forge.yml': 'allowedUsers: [maya]\n' });
    const issue = h.newIssue('Only Maya');
    await h.note({ on: issueOn(issue), body: '/forge do it', user: 'alice' });
    await waitFor(
      () => h.gitlab.notes(PROJECT, { type: 'issue', iid: issue }).some((n) => n.authorId === h.bot.id),
      10_000,
      { what: 'the refusal' },
    );
    await h.quiet();
    const replies = h.gitlab
      .notes(PROJECT, { type: 'issue', iid: issue })
      .filter((n) => n.authorId === h.bot.id);
    assert.equal(replies.length, 1);
    assert.match(replies[0]!.body, /This project's `\.gitlab\/forge\.yml` limits who may ask Forge/);
    assert.equal(await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)), undefined);
    await settings('main', { '.gitlab/forge.yml': null });
  });
});

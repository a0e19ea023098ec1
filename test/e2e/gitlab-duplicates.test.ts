import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { issueLabelsChanged, noteOnIssue } from '../kit/gitlab-webhooks.js';
import { GITLAB_REF, type GitLabHarness, issueOn, PROJECT, useGitLabHarness } from './gitlab-harness.js';

/**
 * GitLab deliveries that are one event, end to end: retries and resends (with and without GitLab
 * 17.4's Idempotency-Key), one event through a project and a group hook, the same note under another
 * key; and distinct events that only share an X-Gitlab-Event-UUID, which all run.
 */
describe('GitLab webhook duplicates', () => {
  let h: GitLabHarness;

  useGitLabHarness((started) => {
    h = started;
  });

  test('a redelivered event, or the same note under another key, makes one task with one turn', async () => {
    const issue = h.newIssue('Twice');
    const first = await h.note({ on: issueOn(issue), body: '/forge once please' });
    const payload = noteOnIssue({
      project: h.project,
      user: { username: 'alice', id: h.gitlab.user('alice').id },
      note: { id: first.noteId, body: '/forge once please' },
      issue: { iid: issue, title: 'Twice', description: 'Details.' },
    });
    const retry = await h.deliver('Note Hook', payload, { idempotencyKey: first.idempotencyKey });
    const otherKey = await h.deliver('Note Hook', payload);
    assert.deepEqual(JSON.parse(retry.body), { result: 'duplicate' });
    assert.deepEqual(JSON.parse(otherKey.body), { result: 'duplicate' }, 'the note id is claimed too');
    const task = await h.settled(issueOn(issue));
    await h.quiet();
    assert.equal(task.turns.length, 1);
    assert.equal(h.gitlab.awards(first.noteId).length, 1);
  });

  /** The trigger label added to an issue (`Issue Hook`), as GitLab stamps it: a new payload each time. */
  const labelled = (iid: number) =>
    issueLabelsChanged({
      project: h.project,
      user: { username: 'alice', id: h.gitlab.user('alice').id },
      issue: { iid, title: h.gitlab.issue(PROJECT, iid)?.title ?? 'Issue', description: 'Details.' },
      previous: [],
      current: ['forge'],
    });
  const turnsOn = async (issue: number) =>
    (await h.forge.store.findByNumber(GITLAB_REF, issueOn(issue)))?.turns.length;

  test('one label event from a project hook and a group hook (each with its own keys) makes one task', async () => {
    const issue = h.newIssue('Two hooks');
    const payload = labelled(issue);
    // GitLab builds the payload once and posts it to every hook, each with its own Idempotency-Key
    // and X-Gitlab-Event-UUID; there is no note id to recognise it by.
    const projectHook = await h.deliver('Issue Hook', payload);
    const groupHook = await h.deliver('Issue Hook', payload);
    const retried = await h.deliver('Issue Hook', payload, { idempotencyKey: groupHook.idempotencyKey });
    assert.deepEqual(JSON.parse(projectHook.body), { result: 'queued' });
    assert.deepEqual(JSON.parse(groupHook.body), { result: 'duplicate' }, 'the same event from another hook');
    assert.deepEqual(JSON.parse(retried.body), { result: 'duplicate' }, 'the same Idempotency-Key');
    const task = await h.settled(issueOn(issue));
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    await h.quiet();
    assert.equal(await turnsOn(issue), 1);
  });

  test('before GitLab 17.4 (X-Gitlab-Event-UUID only): a resend, under a new UUID, is a duplicate', async () => {
    const issue = h.newIssue('Old GitLab');
    const payload = labelled(issue);
    const first = await h.deliver('Issue Hook', payload, { withoutIdempotencyKey: true });
    const resent = await h.deliver('Issue Hook', payload, { withoutIdempotencyKey: true });
    assert.notEqual(first.eventUuid, resent.eventUuid);
    assert.deepEqual(JSON.parse(first.body), { result: 'queued' });
    assert.deepEqual(JSON.parse(resent.body), { result: 'duplicate' });
    await h.settled(issueOn(issue));
    await h.quiet();
    assert.equal(await turnsOn(issue), 1);
  });

  test('different events that share an X-Gitlab-Event-UUID (caused by one webhook receiver) all run', async () => {
    // Events a webhook receiver's API calls cause carry the UUID of the delivery that receiver got
    // ("recursive" webhooks, GitLab's docs): the UUID does not tell events apart.
    const shared = randomUUID();
    const issues = ['A', 'B', 'C'].map((x) => h.newIssue(`Relabelled ${x}`));
    for (const [i, issue] of issues.entries()) {
      // The first as GitLab 17.4+ sends it, the others as GitLab before 17.4 (no Idempotency-Key).
      const res = await h.deliver('Issue Hook', labelled(issue), {
        eventUuid: shared,
        withoutIdempotencyKey: i > 0,
      });
      assert.deepEqual(JSON.parse(res.body), { result: 'queued' }, `issue ${issue}`);
    }
    for (const issue of issues) assert.equal((await h.settled(issueOn(issue))).turns.length, 1);
  });
});

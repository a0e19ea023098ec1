import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gitlabPayload } from '../../../test/kit/gitlab-webhooks.js';
import type { ForgeEvent } from '../types.js';
import { type NormalizeOptions, normalizeGitLabEvent } from './normalize.js';

/** GitLab's documented payloads (test/fixtures/gitlab-webhooks) through the pure normalizer. */

const opts = { triggerLabel: 'forge', repoTriggerLabels: ['ai'] };
const normalize = (event: string, payload: unknown, o: NormalizeOptions = opts) =>
  normalizeGitLabEvent(event, 'uuid-1', payload, o);

const docProject = {
  forge: 'gitlab' as const,
  path: 'gitlab-org/gitlab-test',
  cloneUrl: 'http://example.com/gitlab-org/gitlab-test.git',
  defaultBranch: 'master',
  webUrl: 'http://example.com/gitlab-org/gitlab-test',
};

describe('Note Hook', () => {
  test('a note on an issue → comment on that issue (the documented example)', () => {
    const payload = gitlabPayload('note-issue');
    payload.object_attributes.note = '/forge add a changelog';
    assert.deepEqual(normalize('Note Hook', payload), {
      kind: 'comment',
      deliveryId: 'uuid-1',
      repo: docProject,
      actor: { login: 'root', id: 1, isBot: false },
      comment: {
        id: 1241,
        place: { type: 'issue', number: 17 },
        url: 'http://example.com/gitlab-org/gitlab-test/issues/17#note_1241',
        createdAt: '2015-05-17T17:06:40.000Z',
        body: '/forge add a changelog',
      },
      subject: { number: 17, title: 'test', body: 'test', isChangeRequest: false },
    } satisfies ForgeEvent);
  });

  test('a note on a merge request → comment on the merge request, numbered by iid', () => {
    const event = normalize('Note Hook', gitlabPayload('note-merge-request'));
    assert.ok(event?.kind === 'comment');
    assert.deepEqual(event.comment.place, { type: 'change_request', number: 1 });
    assert.equal(event.comment.id, 1244);
    assert.equal(event.comment.body, 'This MR needs work.');
    assert.deepEqual(event.subject, {
      number: 1,
      title: 'Tempora et eos debitis quae laborum et.',
      body: 'Et voluptas corrupti assumenda temporibus. Architecto cum animi eveniet amet asperiores. Vitae numquam voluptate est natus sit et ad id.',
      isChangeRequest: true,
    });
  });

  test('a note in a merge request thread (a captured DiffNote) → review thread = its discussion', () => {
    const event = normalize('Note Hook', gitlabPayload('note-merge-request-diff'));
    assert.ok(event?.kind === 'comment');
    assert.deepEqual(event.comment.place, {
      type: 'review_thread',
      number: 132,
      threadId: '6ac63f7579b3b6d29be92f93c522e003a111226a',
    });
    assert.equal(event.repo.path, 'messenger/messenger-router-manager');
    assert.equal(event.repo.cloneUrl, 'https://git.mundiale.com.br/messenger/messenger-router-manager.git');
    assert.deepEqual(event.actor, { login: 'nicolas.lima', id: 91, isBot: false });
  });

  test('a reply in a thread (DiscussionNote) → the same thread', () => {
    const payload = gitlabPayload('note-merge-request');
    Object.assign(payload.object_attributes, { type: 'DiscussionNote', discussion_id: 'abc123' });
    const event = normalize('Note Hook', payload);
    assert.ok(event?.kind === 'comment');
    assert.deepEqual(event.comment.place, { type: 'review_thread', number: 1, threadId: 'abc123' });
  });

  test('a thread on an issue is still the issue (no review threads on issues)', () => {
    const payload = gitlabPayload('note-issue');
    Object.assign(payload.object_attributes, { type: 'DiscussionNote', discussion_id: 'abc123' });
    const event = normalize('Note Hook', payload);
    assert.ok(event?.kind === 'comment');
    assert.deepEqual(event.comment.place, { type: 'issue', number: 17 });
  });

  test('only new notes: edits, system notes, commit and snippet notes are ignored', () => {
    const edited = gitlabPayload('note-issue');
    edited.object_attributes.action = 'update';
    assert.equal(normalize('Note Hook', edited), null);
    const system = gitlabPayload('note-merge-request');
    system.object_attributes.system = true;
    assert.equal(normalize('Note Hook', system), null);
    assert.equal(normalize('Note Hook', gitlabPayload('note-commit')), null);
    const snippet = gitlabPayload('note-issue');
    snippet.object_attributes.noteable_type = 'Snippet';
    delete snippet.issue;
    assert.equal(normalize('Note Hook', snippet), null);
  });

  test('GitLab before 16.11 sends no action (notes fired on create only): accepted', () => {
    const old = gitlabPayload('note-issue');
    delete old.object_attributes.action;
    delete old.user.id;
    const event = normalize('Note Hook', old);
    assert.ok(event?.kind === 'comment');
    assert.equal(event.actor.id, 1, 'the author id stands in for the user id');
  });

  test('confidential issues and their notes are ignored', () => {
    const note = gitlabPayload('note-issue');
    note.event_type = 'confidential_note';
    assert.equal(normalize('Note Hook', note), null);
    const flagged = gitlabPayload('note-issue');
    flagged.issue.confidential = true;
    assert.equal(normalize('Note Hook', flagged), null);
    assert.equal(normalize('Confidential Note Hook', gitlabPayload('note-issue')), null);
  });

  test('project and group access-token bots are bots from their name alone', () => {
    for (const username of [
      'project_278964_bot_2a7f3c9e1b',
      'group_42_bot',
      'project_5_bot_0b1c2d3e4f5a6b7c',
    ]) {
      const payload = gitlabPayload('note-issue');
      payload.user.username = username;
      assert.equal(normalize('Note Hook', payload)?.actor.isBot, true, username);
    }
    const human = gitlabPayload('note-issue');
    human.user.username = 'project_manager';
    assert.equal(normalize('Note Hook', human)?.actor.isBot, false);
  });
});

describe('Issue Hook', () => {
  test('a label added in changes.labels (the documented example: API → Platform)', () => {
    const event = normalize('Issue Hook', gitlabPayload('issue'), { triggerLabel: 'platform' });
    assert.deepEqual(event, {
      kind: 'labeled',
      deliveryId: 'uuid-1',
      repo: {
        forge: 'gitlab',
        path: 'gitlabhq/gitlab-test',
        cloneUrl: 'http://example.com/gitlabhq/gitlab-test.git',
        defaultBranch: 'master',
        webUrl: 'http://example.com/gitlabhq/gitlab-test',
      },
      actor: { login: 'root', id: 1, isBot: false },
      label: 'Platform',
      subject: {
        number: 23,
        title: 'New API: create/update/delete file',
        body: 'Create new API for manipulations with repository',
        isChangeRequest: false,
      },
    } satisfies ForgeEvent);
  });

  test('a label that was there before, or not a trigger label, is ignored', () => {
    assert.equal(normalize('Issue Hook', gitlabPayload('issue'), { triggerLabel: 'api' }), null, 'kept');
    assert.equal(normalize('Issue Hook', gitlabPayload('issue')), null, 'not a trigger label');
    const noLabelChange = gitlabPayload('issue');
    noLabelChange.object_attributes.action = 'update';
    delete noLabelChange.changes.labels;
    assert.equal(normalize('Issue Hook', noLabelChange, { triggerLabel: 'api' }), null);
  });

  test('a repository trigger label (FORGE_REPO_TRIGGER_LABELS) passes; case does not matter', () => {
    const payload = gitlabPayload('issue');
    payload.changes.labels.current[0].title = 'AI';
    const event = normalize('Issue Hook', payload);
    assert.equal(event?.kind === 'labeled' && event.label, 'AI');
  });

  test('a new issue opened with the label counts as labeled', () => {
    const payload = gitlabPayload('issue');
    delete payload.changes.labels;
    payload.object_attributes.action = 'open';
    payload.object_attributes.labels[0].title = 'forge';
    const event = normalize('Issue Hook', payload);
    assert.equal(event?.kind, 'labeled');
  });

  test('a confidential issue is ignored', () => {
    const payload = gitlabPayload('issue');
    payload.object_attributes.confidential = true;
    assert.equal(normalize('Issue Hook', payload, { triggerLabel: 'platform' }), null);
  });
});

describe('Merge Request Hook', () => {
  test('merge ends the task as merged, close as not merged; open and update are ignored', () => {
    const open = gitlabPayload('merge-request');
    assert.equal(normalize('Merge Request Hook', open), null, 'the documented example opens an MR');
    const merged = gitlabPayload('merge-request');
    Object.assign(merged.object_attributes, { action: 'merge', state: 'merged' });
    assert.deepEqual(normalize('Merge Request Hook', merged), {
      kind: 'change_request_closed',
      deliveryId: 'uuid-1',
      repo: {
        forge: 'gitlab',
        path: 'gitlabhq/gitlab-test',
        cloneUrl: 'http://example.com/gitlabhq/gitlab-test.git',
        defaultBranch: 'master',
        webUrl: 'http://example.com/gitlabhq/gitlab-test',
      },
      actor: { login: 'root', id: 1, isBot: false },
      number: 1,
      merged: true,
    } satisfies ForgeEvent);
    const closed = gitlabPayload('merge-request');
    Object.assign(closed.object_attributes, { action: 'close', state: 'closed' });
    const event = normalize('Merge Request Hook', closed);
    assert.equal(event?.kind === 'change_request_closed' && event.merged, false);
    const update = gitlabPayload('merge-request');
    update.object_attributes.action = 'update';
    assert.equal(normalize('Merge Request Hook', update), null);
  });
});

describe('everything else and malformed input', () => {
  test('other hooks are ignored, even with a payload Forge would act on', () => {
    for (const name of ['Push Hook', 'Pipeline Hook', 'Emoji Hook', 'System Hook', 'note', '']) {
      assert.equal(normalize(name, gitlabPayload('note-issue')), null, name);
    }
    assert.equal(normalize('Note Hook', gitlabPayload('issue')), null, 'a body of the wrong kind');
  });

  test('malformed payloads never throw and give null', () => {
    const good = gitlabPayload('note-issue');
    const bad: unknown[] = [
      undefined,
      null,
      42,
      'string',
      [],
      {},
      { ...good, project: null },
      { ...good, project: { ...good.project, path_with_namespace: 5 } },
      { ...good, user: undefined },
      { ...good, object_attributes: { ...good.object_attributes, id: -1 } },
      { ...good, object_attributes: { ...good.object_attributes, id: 1.5 } },
      { ...good, issue: { ...good.issue, iid: '17' } },
      { ...good, object_kind: 'issue' },
    ];
    for (const [i, payload] of bad.entries()) {
      for (const name of ['Note Hook', 'Issue Hook', 'Merge Request Hook']) {
        assert.equal(normalizeGitLabEvent(name, 'd', payload, opts), null, `${name} #${i}`);
      }
    }
  });

  test('hostile objects (throwing getters) never throw', () => {
    const trap = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        ownKeys() {
          throw new Error('boom');
        },
      },
    );
    for (const name of ['Note Hook', 'Issue Hook', 'Merge Request Hook'])
      assert.equal(normalize(name, trap), null);
  });
});

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import type { ForgeEvent } from '../types.js';
import { normalizeGitHubEvent } from './normalize.js';

// Real payloads GitHub sends, as collected by Octokit; each test overrides only what it needs.
interface Definition {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];

// biome-ignore lint/suspicious/noExplicitAny: real payloads, mutated freely to build each case
type Payload = Record<string, any>;

function example(name: string, action: string, index = 0): Payload {
  const found = definitions.find((d) => d.name === name)?.examples.filter((e) => e.action === action)[index];
  assert.ok(found, `no example for ${name}.${action}[${index}]`);
  return structuredClone(found);
}

const opts = { triggerLabel: 'Forge' };
const normalize = (name: string, payload: unknown) => normalizeGitHubEvent(name, 'delivery-1', payload, opts);

const codertocatRepo = {
  forge: 'github',
  path: 'Codertocat/Hello-World',
  cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
  defaultBranch: 'master',
  webUrl: 'https://github.com/Codertocat/Hello-World',
} as const;

function withInstallation<T extends Payload>(payload: T, id = 42): T {
  return { ...payload, installation: { id, node_id: 'x' } };
}

describe('issue_comment', () => {
  test('created on an issue → comment in the issue', () => {
    const payload = withInstallation(example('issue_comment', 'created'));
    payload.comment.body = '/forge fix it';
    const event = normalize('issue_comment', payload);
    assert.deepEqual(event, {
      kind: 'comment',
      deliveryId: 'delivery-1',
      repo: { ...codertocatRepo, installationId: 42 },
      actor: { login: 'Codertocat', id: payload.sender.id, isBot: false },
      comment: {
        id: payload.comment.id,
        place: { type: 'issue', number: payload.issue.number },
        url: payload.comment.html_url,
        createdAt: new Date(payload.comment.created_at).toISOString(),
        body: '/forge fix it',
      },
      subject: {
        number: payload.issue.number,
        title: payload.issue.title,
        body: payload.issue.body ?? '',
        isChangeRequest: false,
      },
    } satisfies ForgeEvent);
  });

  test('created on a pull request → comment in the change request', () => {
    const payload = example('issue_comment', 'created');
    payload.issue.pull_request = { url: 'https://api.github.com/repos/x/y/pulls/1', merged_at: null };
    const event = normalize('issue_comment', payload);
    assert.ok(event?.kind === 'comment');
    assert.deepEqual(event.comment.place, { type: 'change_request', number: payload.issue.number });
    assert.equal(event.subject.isChangeRequest, true);
  });

  test('every real created example normalizes; installation is optional', () => {
    const examples = definitions
      .find((d) => d.name === 'issue_comment')!
      .examples.filter((e) => e.action === 'created');
    assert.ok(examples.length > 1);
    for (const payload of examples) {
      const event = normalize('issue_comment', payload);
      assert.equal(event?.kind, 'comment');
      const installation = (payload as { installation?: { id: number } }).installation;
      assert.equal(event.repo.installationId, installation?.id);
      if (!installation) assert.ok(!('installationId' in event.repo));
    }
  });

  test('edited and deleted are ignored', () => {
    assert.equal(normalize('issue_comment', example('issue_comment', 'edited')), null);
    assert.equal(normalize('issue_comment', example('issue_comment', 'deleted')), null);
  });

  test('a bot sender is marked as a bot', () => {
    const payload = example('issue_comment', 'created');
    payload.sender = { ...payload.sender, login: 'forge-app[bot]', type: 'Bot' };
    const event = normalize('issue_comment', payload);
    assert.deepEqual(event?.actor, { login: 'forge-app[bot]', id: payload.sender.id, isBot: true });
  });

  test('a null issue body becomes empty text', () => {
    const payload = example('issue_comment', 'created');
    payload.issue.body = null;
    const event = normalize('issue_comment', payload);
    assert.ok(event?.kind === 'comment');
    assert.equal(event.subject.body, '');
  });
});

describe('issues.labeled', () => {
  test('the trigger label, in any case → labeled', () => {
    const payload = withInstallation(example('issues', 'labeled'), 7);
    payload.label.name = 'forge';
    payload.issue.body = null;
    const event = normalize('issues', payload);
    assert.deepEqual(event, {
      kind: 'labeled',
      deliveryId: 'delivery-1',
      repo: { ...codertocatRepo, installationId: 7 },
      actor: { login: 'Codertocat', id: payload.sender.id, isBot: false },
      label: 'forge',
      subject: { number: payload.issue.number, title: payload.issue.title, body: '', isChangeRequest: false },
    } satisfies ForgeEvent);
  });

  test('another label is ignored (the real example adds "bug")', () => {
    assert.equal(normalize('issues', example('issues', 'labeled')), null);
  });

  test('unlabeled and other actions are ignored', () => {
    const payload = example('issues', 'unlabeled');
    payload.label.name = 'forge';
    assert.equal(normalize('issues', payload), null);
    assert.equal(normalize('issues', example('issues', 'opened')), null);
  });

  test('a labeled event without a label is ignored', () => {
    const payload = example('issues', 'labeled');
    delete payload.label;
    assert.equal(normalize('issues', payload), null);
  });
});

describe('pull_request.closed', () => {
  test('closed without merging', () => {
    const payload = example('pull_request', 'closed');
    const event = normalize('pull_request', payload);
    assert.deepEqual(event, {
      kind: 'change_request_closed',
      deliveryId: 'delivery-1',
      repo: { ...codertocatRepo, installationId: payload.installation.id },
      actor: { login: 'Codertocat', id: payload.sender.id, isBot: false },
      number: payload.pull_request.number,
      merged: false,
    } satisfies ForgeEvent);
  });

  test('merged', () => {
    const payload = example('pull_request', 'closed');
    payload.pull_request.merged = true;
    const event = normalize('pull_request', payload);
    assert.ok(event?.kind === 'change_request_closed');
    assert.equal(event.merged, true);
  });

  test('other pull_request actions are ignored', () => {
    for (const action of ['opened', 'synchronize', 'labeled', 'reopened']) {
      assert.equal(normalize('pull_request', example('pull_request', action)), null, action);
    }
  });
});

describe('pull_request_review_comment.created', () => {
  test('a new thread uses the comment id as thread id', () => {
    const payload = example('pull_request_review_comment', 'created', 1);
    delete payload.comment.in_reply_to_id;
    const event = normalize('pull_request_review_comment', payload);
    assert.deepEqual(event, {
      kind: 'comment',
      deliveryId: 'delivery-1',
      repo: { ...codertocatRepo, installationId: payload.installation.id },
      actor: { login: 'Codertocat', id: payload.sender.id, isBot: false },
      comment: {
        id: payload.comment.id,
        place: {
          type: 'review_thread',
          number: payload.pull_request.number,
          threadId: String(payload.comment.id),
        },
        url: payload.comment.html_url,
        createdAt: new Date(payload.comment.created_at).toISOString(),
        body: payload.comment.body,
      },
      subject: {
        number: payload.pull_request.number,
        title: payload.pull_request.title,
        body: payload.pull_request.body ?? '',
        isChangeRequest: true,
      },
    } satisfies ForgeEvent);
  });

  test('a reply uses the first comment of the thread', () => {
    const payload = example('pull_request_review_comment', 'created');
    payload.comment.in_reply_to_id = 1234;
    const event = normalize('pull_request_review_comment', payload);
    assert.ok(event?.kind === 'comment');
    assert.deepEqual(event.comment.place, {
      type: 'review_thread',
      number: payload.pull_request.number,
      threadId: '1234',
    });
  });

  test('edited and deleted are ignored', () => {
    assert.equal(
      normalize('pull_request_review_comment', example('pull_request_review_comment', 'edited')),
      null,
    );
    assert.equal(
      normalize('pull_request_review_comment', example('pull_request_review_comment', 'deleted')),
      null,
    );
  });
});

describe('pull_request_review.submitted', () => {
  test('with a body → comment on the change request, id = review id', () => {
    const payload = example('pull_request_review', 'submitted');
    payload.review.body = '/forge address the nits';
    const event = normalize('pull_request_review', payload);
    assert.deepEqual(event, {
      kind: 'comment',
      deliveryId: 'delivery-1',
      repo: { ...codertocatRepo },
      actor: { login: 'Codertocat', id: payload.sender.id, isBot: false },
      comment: {
        id: payload.review.id,
        place: { type: 'change_request', number: payload.pull_request.number },
        isReview: true,
        url: payload.review.html_url,
        createdAt: new Date(payload.review.submitted_at!).toISOString(),
        body: '/forge address the nits',
      },
      subject: {
        number: payload.pull_request.number,
        title: payload.pull_request.title,
        body: payload.pull_request.body ?? '',
        isChangeRequest: true,
      },
    } satisfies ForgeEvent);
  });

  test('without a body (the real examples: body null) → ignored', () => {
    assert.equal(normalize('pull_request_review', example('pull_request_review', 'submitted')), null);
    const blank = example('pull_request_review', 'submitted');
    blank.review.body = '  \n';
    assert.equal(normalize('pull_request_review', blank), null);
  });

  test('dismissed is ignored', () => {
    const payload = example('pull_request_review', 'dismissed');
    payload.review.body = '/forge go';
    assert.equal(normalize('pull_request_review', payload), null);
  });
});

describe('everything else and malformed input', () => {
  test('other events are ignored, even with a matching action', () => {
    for (const name of ['push', 'check_run', 'installation', 'discussion_comment', 'commit_comment', '']) {
      assert.equal(normalize(name, example('issue_comment', 'created')), null, name);
    }
  });

  test('malformed payloads never throw and give null', () => {
    const good = example('issue_comment', 'created');
    const bad: unknown[] = [
      undefined,
      null,
      42,
      'string',
      [],
      {},
      { action: 'created' },
      { ...good, repository: null },
      { ...good, repository: { ...good.repository, full_name: 5 } },
      { ...good, sender: undefined },
      { ...good, sender: { ...good.sender, id: 'one' } },
      { ...good, comment: null },
      { ...good, comment: { ...good.comment, id: -1 } },
      { ...good, comment: { ...good.comment, id: 1.5 } },
      { ...good, issue: { ...good.issue, number: '1' } },
      { ...good, action: 7 },
    ];
    for (const [i, payload] of bad.entries()) {
      for (const name of [
        'issue_comment',
        'issues',
        'pull_request',
        'pull_request_review_comment',
        'pull_request_review',
      ]) {
        assert.equal(normalizeGitHubEvent(name, 'd', payload, opts), null, `${name} #${i}`);
      }
    }
  });

  test('hostile objects (throwing getters, cycles) never throw', () => {
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
    assert.equal(normalize('issue_comment', trap), null);
    const cyclic = example('issue_comment', 'created');
    cyclic.comment.self = cyclic;
    assert.equal(normalize('issue_comment', cyclic)?.kind, 'comment');
  });

  test('lenient where it is safe: odd optional fields do not drop the event', () => {
    const payload = example('issue_comment', 'created');
    payload.installation = 'not an object';
    payload.comment.html_url = 12;
    payload.issue.title = null;
    payload.sender.type = undefined;
    payload.extra = { anything: true };
    const event = normalize('issue_comment', payload);
    assert.ok(event?.kind === 'comment');
    assert.ok(!('installationId' in event.repo));
    assert.ok(!('url' in event.comment));
    assert.equal(event.subject.title, '');
    assert.equal(event.actor.isBot, false);
  });
});

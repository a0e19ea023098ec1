import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { Webhooks } from '@octokit/webhooks';
import { freePort } from './net.js';
import { startRedis } from './redis.js';
import { commandExists, ensureCommand, requireComponent } from './require.js';
import {
  buildDelivery,
  examplePayload,
  issueCommentCreated,
  issuesLabeled,
  pullRequestClosed,
  sendDelivery,
} from './webhooks.js';

/** Sends one RESP command (inline form) and returns the first reply line. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.split('\r\n')[0] ?? '');
      }
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const repo = {
  owner: 'acme',
  name: 'widgets',
  cloneUrl: 'http://127.0.0.1:9/acme/widgets.git',
  defaultBranch: 'trunk',
  id: 4242,
};
const sender = { login: 'alice', id: 77, type: 'User' as const };

describe('freePort', () => {
  test('returns a bindable loopback port', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('startRedis', () => {
  test('two private servers answer independently and stop for good', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    try {
      assert.notEqual(a.port, b.port);
      assert.equal(a.url, `redis://127.0.0.1:${a.port}`);
      assert.equal(await redisCommand(a.port, 'PING'), '+PONG');
      assert.equal(await redisCommand(a.port, 'SET k from-a'), '+OK');
      // b is a separate, empty instance: nothing leaks between tests.
      assert.equal(await redisCommand(b.port, 'GET k'), '$-1');
      assert.equal(await redisCommand(a.port, 'CONFIG GET maxmemory-policy'), '*2');
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.equal(await canConnect(a.port), false);
    assert.equal(await canConnect(b.port), false);
    await a.stop(); // idempotent
  });
});

describe('require helpers', () => {
  test('ensureCommand passes for a present command and commandExists sees PATH', async () => {
    await ensureCommand('sh', 'dash');
    assert.equal(await commandExists('sh'), true);
    assert.equal(await commandExists('no-such-command-forge-kit'), false);
  });

  test('requireComponent: no skip when found, skip reason locally, failure under CI', () => {
    const saved = process.env.CI;
    try {
      assert.equal(requireComponent('docker', true, 'apt-get install -y docker.io'), false);
      delete process.env.CI;
      assert.match(
        String(requireComponent('docker', false, 'apt-get install -y docker.io')),
        /apt-get install -y docker\.io/,
      );
      process.env.CI = 'true';
      assert.throws(
        () => requireComponent('docker', false, 'apt-get install -y docker.io'),
        /docker is missing.*CI=true/,
      );
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});

describe('examplePayload', () => {
  test('returns a deep clone of the first real example with the action', () => {
    const a = examplePayload('issue_comment', 'created');
    assert.equal(a.action, 'created');
    assert.equal(typeof a.comment.body, 'string');
    a.comment.body = 'changed';
    assert.notEqual(examplePayload('issue_comment', 'created').comment.body, 'changed');
    assert.ok(examplePayload('ping').hook_id);
  });

  test('fails loudly for an unknown event or action', () => {
    assert.throws(
      () => examplePayload('issue_comments', 'created'),
      /No webhook examples for event "issue_comments".*issue_comment/,
    );
    assert.throws(
      () => examplePayload('issue_comment', 'creatd'),
      /action "creatd".*created, deleted, edited/,
    );
  });
});

describe('buildDelivery', () => {
  const secret = 'kit-secret';
  const webhooks = new Webhooks({ secret });

  test('signatures verify with @octokit/webhooks and headers match GitHub', async () => {
    const payload = issueCommentCreated({
      repo,
      installationId: 9,
      issue: { number: 5, title: 't' },
      comment: { id: 1, body: '/forge hi' },
      sender,
    });
    const delivery = buildDelivery({ event: 'issue_comment', payload, secret, deliveryId: 'd-1', appId: 31 });
    const signature = delivery.headers['X-Hub-Signature-256'] ?? '';
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(await webhooks.verify(delivery.body, signature), true);
    assert.equal(await new Webhooks({ secret: 'other' }).verify(delivery.body, signature), false);
    assert.equal(await webhooks.verify(`${delivery.body} `, signature), false);
    assert.match(delivery.headers['X-Hub-Signature'] ?? '', /^sha1=[0-9a-f]{40}$/);
    assert.equal(delivery.headers['X-GitHub-Event'], 'issue_comment');
    assert.equal(delivery.headers['X-GitHub-Delivery'], 'd-1');
    assert.equal(delivery.headers['Content-Type'], 'application/json');
    assert.match(delivery.headers['User-Agent'] ?? '', /^GitHub-Hookshot\//);
    assert.equal(delivery.headers['X-GitHub-Hook-Installation-Target-Type'], 'integration');
    assert.equal(delivery.headers['X-GitHub-Hook-Installation-Target-ID'], '31');
    assert.deepEqual(JSON.parse(delivery.body), payload);
    assert.match(
      buildDelivery({ event: 'ping', payload: {}, secret }).headers['X-GitHub-Delivery'] ?? '',
      /^[0-9a-f-]{36}$/,
    );
  });

  test('sendDelivery posts what verifyAndReceive accepts', async () => {
    const received: string[] = [];
    webhooks.on('issues.labeled', ({ id, payload }) => {
      received.push(`${id}:${payload.label?.name}`);
    });
    const readBody = async (req: IncomingMessage) => {
      let data = '';
      for await (const chunk of req) data += chunk;
      return data;
    };
    const server = createServer(async (req, res) => {
      const body = await readBody(req);
      try {
        await webhooks.verifyAndReceive({
          id: String(req.headers['x-github-delivery']),
          name: String(req.headers['x-github-event']) as 'issues',
          payload: body,
          signature: String(req.headers['x-hub-signature-256']),
        });
        res.writeHead(202).end('ok');
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    after(() => new Promise((resolve) => server.close(resolve)));

    const payload = issuesLabeled({ repo, issue: { number: 3 }, label: { name: 'forge' }, sender });
    const good = await sendDelivery(
      `http://127.0.0.1:${port}/`,
      buildDelivery({ event: 'issues', payload, secret, deliveryId: 'd-2' }),
    );
    assert.equal(good.status, 202, good.body);
    assert.ok(good.ms >= 0);
    assert.deepEqual(received, ['d-2:forge']);
    const bad = await sendDelivery(
      `http://127.0.0.1:${port}/`,
      buildDelivery({ event: 'issues', payload, secret: 'wrong' }),
    );
    assert.equal(bad.status, 400);
  });
});

describe('payload builders', () => {
  test('issueCommentCreated on an issue keeps the real shape with Forge’s values', () => {
    const example = examplePayload('issue_comment', 'created');
    const p = issueCommentCreated({
      repo,
      installationId: 9,
      issue: { number: 12, title: 'Fix it', body: 'details', isPullRequest: false },
      comment: { id: 555, body: '/forge fix the typo' },
      sender,
    });
    // Only values change: every key of the real example is still there.
    for (const key of Object.keys(example)) assert.ok(key in p, key);
    for (const key of Object.keys(example.issue)) assert.ok(key in p.issue, `issue.${key}`);
    for (const key of Object.keys(example.comment)) assert.ok(key in p.comment, `comment.${key}`);
    assert.equal(p.action, 'created');
    assert.equal(p.installation?.id, 9);
    assert.equal(p.repository.full_name, 'acme/widgets');
    assert.equal(p.repository.owner.login, 'acme');
    assert.equal(p.repository.clone_url, repo.cloneUrl);
    assert.equal(p.repository.default_branch, 'trunk');
    assert.equal(p.repository.id, 4242);
    assert.equal(p.issue.number, 12);
    assert.equal(p.issue.title, 'Fix it');
    assert.equal(p.issue.body, 'details');
    assert.equal('pull_request' in p.issue, false);
    assert.equal(p.comment.id, 555);
    assert.equal(p.comment.body, '/forge fix the typo');
    assert.equal(p.comment.user?.login, 'alice');
    assert.equal(p.sender.login, 'alice');
    assert.equal(p.sender.type, 'User');
    // No trace of the example's repository is left in any URL.
    assert.equal(JSON.stringify(p).includes('Hello-World'), false);
  });

  test('issueCommentCreated on a PR has issue.pull_request, as GitHub sends it', () => {
    const p = issueCommentCreated({
      repo,
      issue: { number: 7, title: 'PR', isPullRequest: true },
      comment: { id: 8, body: '/forge again' },
      sender: { login: 'forge[bot]', id: 99, type: 'Bot' },
    });
    assert.equal(p.issue.pull_request?.url, 'https://api.github.com/repos/acme/widgets/pulls/7');
    assert.equal(p.issue.html_url, 'https://github.com/acme/widgets/pull/7');
    assert.equal(p.sender.type, 'Bot');
    assert.equal(p.sender.login, 'forge[bot]');
  });

  test('issuesLabeled carries the label on the event and on the issue', () => {
    const p = issuesLabeled({
      repo,
      installationId: 3,
      issue: { number: 4, title: 'T' },
      label: { name: 'forge' },
      sender,
    });
    assert.equal(p.action, 'labeled');
    assert.equal(p.label?.name, 'forge');
    assert.deepEqual(
      p.issue.labels?.map((l) => l.name),
      ['forge'],
    );
    assert.equal(p.installation?.id, 3);
  });

  test('pullRequestClosed: merged and not merged', () => {
    const merged = pullRequestClosed({
      repo,
      number: 21,
      merged: true,
      head: { ref: 'forge/task-1', sha: 'a'.repeat(40) },
      sender,
    });
    assert.equal(merged.action, 'closed');
    assert.equal(merged.number, 21);
    assert.equal(merged.pull_request.number, 21);
    assert.equal(merged.pull_request.merged, true);
    assert.ok(merged.pull_request.merged_at);
    assert.equal(merged.pull_request.head.ref, 'forge/task-1');
    assert.equal(merged.pull_request.base.ref, 'trunk');
    assert.equal(merged.pull_request.base.repo.full_name, 'acme/widgets');
    const closed = pullRequestClosed({ repo, number: 22, merged: false });
    assert.equal(closed.pull_request.merged, false);
    assert.equal(closed.pull_request.merged_at, null);
    assert.equal(closed.pull_request.state, 'closed');
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onIssue, type Scenario } from '../driver.js';

/** Hostile input, a lazy agent and Forge's own secrets: the same guarantees on every forge. */
export const SAFETY_SCENARIOS: Scenario[] = [
  {
    name: 'an agent that changes nothing opens no change request, and the reply says so',
    async run(d) {
      const at = onIssue(d.newIssue('Nothing'));
      await d.ask(at, '/forge check it [noop]');
      const task = await d.settled(at);
      assert.equal(task.turns[0]!.state, 'completed');
      assert.equal(task.turns[0]!.noChanges, true);
      assert.equal(task.changeRequest, undefined);
      assert.equal(d.changeRequests().filter((c) => c.branch === task.branch).length, 0);
      assert.equal(task.branch! in (await d.git.branches(d.gitRepo)), false, 'no empty branch pushed');
      const word = d.kind === 'github' ? 'pull request' : 'merge request';
      assert.match(
        d.sticky(at, task.id)!.body,
        new RegExp(`without changing any file, so there is no new commit and no ${word}`),
      );
    },
  },
  {
    name: 'hidden text in comments and the issue never reaches the agent',
    async run(d) {
      const at = onIssue(
        d.newIssue('Hidden\u200b things', 'Visible context.<!-- SECRET-ISSUE-PAYLOAD -->\u202eevil'),
      );
      await d.ask(at, '/forge show me [prompt]<!-- SECRET-COMMENT-PAYLOAD -->\u2066x\u2069');
      const task = await d.settled(at);
      const prompt = await d.git.fileAt(d.gitRepo, task.branch!, 'prompt-dump.txt');
      assert.ok(prompt, 'the agent wrote out its prompt');
      assert.match(prompt, /show me \[prompt\]x/);
      assert.match(prompt, /Visible context\.evil/);
      for (const hidden of ['SECRET-ISSUE-PAYLOAD', 'SECRET-COMMENT-PAYLOAD', '\u200b', '\u202e', '\u2066']) {
        assert.ok(!prompt.includes(hidden), `no ${JSON.stringify(hidden)} in the prompt`);
      }
    },
  },
  {
    name: 'git hooks and config planted by the agent never run on the host',
    async run(d) {
      const at = onIssue(d.newIssue('Hooks'));
      const marker = join(tmpdir(), `forge-pwned-${randomBytes(6).toString('hex')}`);
      await d.ask(at, `/forge plant things [hook:${marker}]`);
      const task = await d.settled(at);
      assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
      assert.ok(task.turns[0]!.commitSha, 'the change itself was still committed and pushed');
      assert.equal(existsSync(marker), false, 'no hook, fsmonitor or filter ran on the host');
    },
  },
  {
    name: 'nothing the agent left running is alive when the host commits and pushes its work',
    async run(d) {
      const at = onIssue(d.newIssue('Linger'));
      const ticks = join(tmpdir(), `forge-linger-${randomBytes(6).toString('hex')}`);
      const since = d.git.requests.length;
      await d.ask(at, `/forge leave a process behind [linger:${ticks}]`);
      const task = await d.settled(at);
      assert.ok(task.turns[0]!.commitSha, 'the work was pushed');
      const push = d.git.requests
        .slice(since)
        .find((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'));
      assert.ok(push, 'the push reached the git server');
      const written = readFileSync(ticks, 'utf8').trim().split('\n').map(Number);
      assert.ok(written.length > 0, 'the process did run');
      // A process that could still write while git reads the checkout could swap in a link or a FIFO.
      assert.ok(Math.max(...written) < push.at, 'the process was gone before the push');
      rmSync(ticks, { force: true });
    },
  },
];

/**
 * Run last in a file: no credential of the forge reaches the logs, the forge API bodies (comments,
 * statuses, change requests), Redis (job data, task records, event logs) or a git URL, and every
 * checkout is gone.
 */
export const NO_LEAK_SCENARIO: Scenario = {
  name: 'no token reaches the logs, the comments, the job data or the checkout history',
  async run(d) {
    const secrets = d.secrets();
    assert.ok(secrets.length >= 2, 'the forge credentials are known');
    const haystacks = [d.logs.join('\n'), ...d.apiBodies(), ...(await dumpRedis(d.redisUrl))];
    assert.ok(d.apiBodies().length > 5 && haystacks.length > 10, 'there is something to scan');
    for (const secret of secrets) {
      for (const text of haystacks) assert.ok(!text.includes(secret), 'a credential leaked');
    }
    for (const req of d.git.requests) {
      assert.ok(!/x-access-token|oauth2|gh[sp]_|glpat-/.test(req.path), 'no credentials in git URLs');
      for (const secret of secrets) assert.ok(!req.path.includes(secret));
    }
    await d.quiet();
    assert.deepEqual(
      readdirSync(join(d.workspace, 'checkouts', 'tasks')),
      [],
      'checkouts are removed after each turn',
    );
  },
};

async function dumpRedis(url: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  try {
    const out: string[] = [];
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      if (type === 'string') out.push(String(await redis.get(key)));
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, startHarness } from './harness.js';

/**
 * The agent's network, end to end: a sandboxed command reaches the outside only through the
 * worker's egress proxy, with the turn's token; hosts on FORGE_EGRESS_ALLOW get a tunnel, anything
 * else is refused and noted in the turn's log.
 */
describe("the agent's egress", () => {
  let h: Harness;
  let allowed: Server;
  let allowedPort: number;

  before(async () => {
    allowed = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => allowed.listen(0, '127.0.0.1', resolve));
    allowedPort = (allowed.address() as AddressInfo).port;
    h = await startHarness({ env: { FORGE_EGRESS_ALLOW: `127.0.0.1:${allowedPort}` } });
  });
  after(async () => {
    await h?.close();
    await new Promise((resolve) => allowed?.close(resolve));
  });
  afterEach(() => h.github.assertNoViolations());

  const outputOf = async (taskId: string) =>
    (await h.forge.store.events(taskId, { count: 100_000 })).map((e) => e.text).join('\n');

  test('a host on the allowlist gets a tunnel', async () => {
    const issue = h.newIssue('Fetch a dependency');
    await h.comment({ number: issue, body: `/forge add an entry [egress:127.0.0.1:${allowedPort}]` });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    const log = await outputOf(task.id);
    assert.match(log, new RegExp(`egress 127\\.0\\.0\\.1:${allowedPort}: 200`));
    assert.doesNotMatch(log, /egress proxy refused/);
  });

  test('any other host is refused, and the refusal is noted in the turn log', async () => {
    const issue = h.newIssue('Phone home');
    await h.comment({ number: issue, body: '/forge add an entry [egress:exfil.example.com:443]' });
    const task = await h.settled(issue);
    const log = await waitFor(
      async () => {
        const text = await outputOf(task.id);
        return /egress proxy refused a connection to exfil\.example\.com:443/.test(text) ? text : undefined;
      },
      10_000,
      { what: 'the refusal in the task log' },
    );
    assert.match(log, /egress exfil\.example\.com:443: 403/);
    assert.match(log, /not in FORGE_EGRESS_ALLOW/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RepoRef } from '../../src/forge/types.js';
import { TaskStore } from '../../src/tasks/store.js';
import { closeTask } from '../../src/tasks/transitions.js';
import type { Task } from '../../src/tasks/types.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type RedisServer, startRedis } from '../kit/redis.js';
import { fixtureRepo, fixtureTask } from '../kit/tasks.js';

/** TaskStore against a real (private) redis-server: the races it claims to survive, for real. */

const PREFIX = 'it-store:';
const TTL_MS = 60_000;

const repo: RepoRef = { ...fixtureRepo, path: 'Acme/Widgets' };
const newTask = (id: string, issueNumber: number, extra: Partial<Task> = {}): Task =>
  fixtureTask(id, { repo, issueNumber, issueTitle: `Issue ${issueNumber}`, ...extra });

describe('TaskStore on a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  /** Extra connections, so concurrent callers really race like separate processes do. */
  let clients: Redis[] = [];
  let stores: TaskStore[] = [];
  let store: TaskStore;
  let nextIssue = 100;
  const issueNumber = () => nextIssue++;

  const indexKey = (kind: 'issue' | 'cr', n: number) =>
    `${PREFIX}index:github:${repo.path.toLowerCase()}:${kind}:${n}`;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    clients = Array.from({ length: 5 }, () => new Redis(server.url));
    stores = clients.map((c) => new TaskStore({ redis: c, prefix: PREFIX, ttlMs: TTL_MS }));
    store = new TaskStore({ redis, prefix: PREFIX, ttlMs: TTL_MS });
  });
  after(async () => {
    await Promise.all([redis, ...clients].map((c) => c?.quit().catch(() => undefined)));
    await server?.stop();
  });

  /** Asserts that the results of concurrent findOrCreate calls for issue `n` agree on one task. */
  async function assertOneTask(n: number, results: { task: Task; created: boolean }[]): Promise<void> {
    const ids = new Set(results.map((r) => r.task.id));
    assert.equal(ids.size, 1, `#${n}: every caller got the same task, got ${[...ids].join(', ')}`);
    assert.equal(results.filter((r) => r.created).length, 1, `#${n}: exactly one caller created the task`);
    const [id] = ids;
    assert.equal(await redis.get(indexKey('issue', n)), id);
    assert.equal((await store.findByNumber(repo, n))?.id, id);
  }

  test('20 concurrent findOrCreate calls for one issue (one process) create exactly one task', async () => {
    const n = issueNumber();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.findOrCreate(repo, n, (id) => newTask(id, n))),
    );
    await assertOneTask(n, results);
    // No orphan task records were written by the losers.
    const mine: string[] = [];
    for (const k of await redis.keys(`${PREFIX}task:*`)) {
      if (k.endsWith(':events')) continue;
      const json = await redis.hget(k, 'json');
      if (json && (JSON.parse(json) as Task).issueNumber === n) mine.push(k);
    }
    assert.deepEqual(mine, [`${PREFIX}task:${results[0]!.task.id}`]);
  });

  // Regression: the index used to be claimed before the task record existed, so a racer on another
  // connection could take it for a gone task and create a second one (about 1 issue in 12).
  test('20 concurrent findOrCreate calls for one issue from 20 connections (processes) create one task', async () => {
    const many = Array.from({ length: 20 }, () => new Redis(server.url));
    try {
      const racers = many.map((c) => new TaskStore({ redis: c, prefix: PREFIX, ttlMs: TTL_MS }));
      for (let round = 0; round < 40; round++) {
        const n = issueNumber();
        const results = await Promise.all(racers.map((s) => s.findOrCreate(repo, n, (id) => newTask(id, n))));
        await assertOneTask(n, results);
      }
    } finally {
      await Promise.all(many.map((c) => c.quit().catch(() => undefined)));
    }
  });

  test('concurrent findOrCreate for different issues creates one task each', async () => {
    const numbers = Array.from({ length: 10 }, () => issueNumber());
    const results = await Promise.all(
      // One connection here; the test above covers callers on separate connections.
      numbers.flatMap((n) => [0, 1].map(() => store.findOrCreate(repo, n, (id) => newTask(id, n)))),
    );
    assert.equal(results.filter((r) => r.created).length, numbers.length);
    assert.equal(new Set(results.map((r) => r.task.id)).size, numbers.length);
  });

  test('update is a compare-and-set: 50 concurrent increments lose nothing', async () => {
    const n = issueNumber();
    const { task } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stores[i % stores.length]!.update(task.id, (t) => {
          const stickies = t.stickies ?? {};
          stickies.count = (stickies.count ?? 0) + 1;
          t.stickies = stickies;
          return stickies.count;
        }),
      ),
    );
    const stored = await store.get(task.id);
    assert.equal(stored?.stickies?.count, 50);
    // Each increment saw a distinct value: none was applied twice or overwritten.
    assert.deepEqual(
      results.map((r) => r.result).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(await redis.hget(`${PREFIX}task:${task.id}`, 'rev'), '51');
  });

  test('update of a missing task throws', async () => {
    await assert.rejects(
      store.update('tnosuchtask0', () => undefined),
      /not found/,
    );
  });

  test('a closed task expires with its event log and indexes, and the issue gets a fresh task', async () => {
    const n = issueNumber();
    const pr = issueNumber();
    const { task } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    await store.appendEvent(task.id, 1, 'state', 'turn 1 queued');
    await store.indexChangeRequest(task, pr);
    await store.update(task.id, (t) => {
      t.changeRequest = { number: pr, url: `http://git.test/pull/${pr}` };
    });
    await store.markActive(task.id);
    // Open: nothing expires.
    assert.equal(await redis.pttl(`${PREFIX}task:${task.id}`), -1);
    assert.equal(await redis.pttl(indexKey('issue', n)), -1);

    const { task: closed } = await store.update(task.id, (t) => {
      closeTask(t);
    });
    assert.equal(closed.state, 'closed');
    assert.equal(closed.turns[0]!.state, 'cancelled', 'queued turns are cancelled on close');
    for (const key of [
      `${PREFIX}task:${task.id}`,
      `${PREFIX}task:${task.id}:events`,
      indexKey('issue', n),
      indexKey('cr', pr),
    ]) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= TTL_MS, `${key} has a TTL (got ${ttl})`);
    }
    assert.ok(!(await store.activeTaskIds()).includes(task.id), 'closed tasks leave the active set');

    assert.equal(await store.findByNumber(repo, n), undefined);
    assert.equal(await store.findByNumber(repo, pr), undefined);
    assert.equal((await store.get(task.id))?.state, 'closed', 'the record stays readable until it expires');

    const fresh = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    assert.equal(fresh.created, true);
    assert.notEqual(fresh.task.id, task.id);
    assert.equal((await store.findByNumber(repo, n))?.id, fresh.task.id);
    assert.equal(await redis.pttl(indexKey('issue', n)), -1, 'the new task’s index does not expire');
    assert.equal(await redis.pttl(`${PREFIX}task:${fresh.task.id}`), -1);
  });

  // Regression: a closed task's late update (its turn finishing after the PR was closed) used to
  // expire index keys that already pointed at a newer task on the same issue.
  test('a late update of a closed task does not expire the index of the newer task on the issue', async () => {
    const n = issueNumber();
    const { task: old } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    await store.update(old.id, (t) => {
      t.turns[0]!.state = 'running';
      closeTask(t);
    });
    const { task: fresh } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    assert.equal(await redis.pttl(indexKey('issue', n)), -1);
    // The old task's running turn finishes after the close.
    await store.update(old.id, (t) => {
      t.turns[0]!.state = 'cancelled';
    });
    assert.equal(await redis.get(indexKey('issue', n)), fresh.id);
    assert.equal(await redis.pttl(indexKey('issue', n)), -1, 'the open task’s index must not expire');
  });

  test('a closed task really disappears after the TTL', async () => {
    const short = new TaskStore({ redis, prefix: `${PREFIX}short:`, ttlMs: 150 });
    const n = issueNumber();
    const { task } = await short.findOrCreate(repo, n, (id) => newTask(id, n));
    await short.appendEvent(task.id, 1, 'note', 'hello');
    await short.update(task.id, (t) => {
      closeTask(t);
    });
    await waitFor(async () => (await redis.keys(`${PREFIX}short:*`)).length === 0, 5000, {
      what: 'every key of the closed task to expire',
    });
    assert.equal(await short.get(task.id), undefined);
    assert.deepEqual(await short.events(task.id), []);
    const again = await short.findOrCreate(repo, n, (id) => newTask(id, n));
    assert.equal(again.created, true);
  });

  test('event log: append, read in order, page with `after`, and stay bounded', async () => {
    const n = issueNumber();
    const { task } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    await store.appendEvent(task.id, 1, 'state', 'turn 1 running');
    await store.appendEvent(task.id, 1, 'output', 'line with ünïcode and = signs');
    await store.appendEvent(task.id, 2, 'agent', 'done');
    const all = await store.events(task.id);
    assert.deepEqual(
      all.map((e) => [e.turn, e.kind, e.text]),
      [
        [1, 'state', 'turn 1 running'],
        [1, 'output', 'line with ünïcode and = signs'],
        [2, 'agent', 'done'],
      ],
    );
    for (const e of all) assert.ok(!Number.isNaN(Date.parse(e.at)), `event time ${e.at}`);
    const rest = await store.events(task.id, { after: all[0]!.id });
    assert.deepEqual(
      rest.map((e) => e.text),
      ['line with ünïcode and = signs', 'done'],
    );
    assert.deepEqual(
      (await store.events(task.id, { count: 1 })).map((e) => e.text),
      ['turn 1 running'],
    );
    assert.deepEqual(await store.events(task.id, { after: all[2]!.id }), []);

    // MAXLEN ~ trims whole stream nodes (100 entries by default), so the bound is approximate.
    const bounded = new TaskStore({ redis, prefix: PREFIX, ttlMs: TTL_MS, maxEvents: 10 });
    const m = issueNumber();
    const { task: busy } = await bounded.findOrCreate(repo, m, (id) => newTask(id, m));
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => bounded.appendEvent(busy.id, 1, 'output', `line ${i + j}`)),
      );
    }
    const length = await redis.xlen(`${PREFIX}task:${busy.id}:events`);
    assert.ok(length >= 10 && length <= 10 + 100, `the log is bounded (length ${length})`);
    const kept = await bounded.events(busy.id, { count: 100_000 });
    assert.equal(kept.at(-1)?.text, 'line 999', 'the newest lines are kept');
  });

  test('indexChangeRequest makes the task findable by its PR number', async () => {
    const n = issueNumber();
    const pr = issueNumber();
    const { task } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    assert.equal(await store.findByNumber(repo, pr), undefined);
    await store.indexChangeRequest(task, pr);
    assert.equal((await store.findByNumber(repo, pr))?.id, task.id);
    // Lookups are case-insensitive on the repository path.
    assert.equal((await store.findByNumber({ ...repo, path: 'acme/widgets' }, pr))?.id, task.id);
    const again = await store.findOrCreate(repo, pr, (id) => newTask(id, pr));
    assert.equal(again.created, false);
    assert.equal(again.task.id, task.id);
  });

  test('a task started on a change request is indexed by that number', async () => {
    const pr = issueNumber();
    const { task } = await store.findOrCreate(repo, pr, (id) =>
      newTask(id, pr, { changeRequest: { number: pr, url: 'http://git.test/pull' } }),
    );
    assert.equal(await redis.get(indexKey('cr', pr)), task.id);
    assert.equal((await store.findByNumber(repo, pr))?.id, task.id);
  });

  test('issue #n and change request !n are different tasks when asked by conversation (GitLab)', async () => {
    const gitlab: RepoRef = { ...repo, forge: 'gitlab', path: 'group/sub/project' };
    const n = issueNumber();
    const onIssue = await store.findOrCreate(gitlab, { type: 'issue', number: n }, (id) =>
      newTask(id, n, { repo: gitlab }),
    );
    const onMr = await store.findOrCreate(gitlab, { type: 'change_request', number: n }, (id) =>
      newTask(id, n, { repo: gitlab, changeRequest: { number: n, url: 'http://git.test/mr' } }),
    );
    assert.equal(onIssue.created, true);
    assert.equal(onMr.created, true, 'the merge request does not find the issue’s task');
    assert.notEqual(onMr.task.id, onIssue.task.id);
    assert.equal((await store.findByNumber(gitlab, { type: 'issue', number: n }))?.id, onIssue.task.id);
    assert.equal((await store.findByNumber(gitlab, { type: 'change_request', number: n }))?.id, onMr.task.id);
    // The issue's task opens merge request !m: found from the merge request, never from issue #m.
    const m = issueNumber();
    await store.indexChangeRequest(onIssue.task, m);
    assert.equal(
      (await store.findByNumber(gitlab, { type: 'change_request', number: m }))?.id,
      onIssue.task.id,
    );
    assert.equal(await store.findByNumber(gitlab, { type: 'issue', number: m }), undefined);
  });

  test('active set: markActive, markIdle, activeTaskIds', async () => {
    const n = issueNumber();
    const { task } = await store.findOrCreate(repo, n, (id) => newTask(id, n));
    await store.markActive(task.id);
    assert.ok((await store.activeTaskIds()).includes(task.id));
    await store.markIdle(task.id);
    assert.ok(!(await store.activeTaskIds()).includes(task.id));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Job, type Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { RepoRef } from '../../src/forge/types.js';
import type { TurnJob } from '../../src/tasks/jobs.js';
import { turnJobId } from '../../src/tasks/jobs.js';
import { bullPrefix, createQueues, type Queues, TURNS_QUEUE } from '../../src/tasks/queues.js';
import { TurnScheduler } from '../../src/tasks/scheduler.js';
import { TaskStore } from '../../src/tasks/store.js';
import { transitionTurn } from '../../src/tasks/transitions.js';
import type { Task } from '../../src/tasks/types.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type RedisServer, startRedis } from '../kit/redis.js';
import { fixtureRepo, fixtureTurn } from '../kit/tasks.js';

/** TurnScheduler with a real BullMQ queue (and worker) on a private redis-server. */

const PREFIX = 'it-sched:';

const repo: RepoRef = fixtureRepo;
const turn = (n: number) => fixtureTurn(n);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TurnScheduler on a real Redis and BullMQ', () => {
  let server: RedisServer;
  let redis: Redis;
  let other: Redis;
  let store: TaskStore;
  let queues: Queues;
  let otherQueues: Queues;
  let scheduler: TurnScheduler;
  /** A second scheduler on its own connections: another worker process. */
  let otherScheduler: TurnScheduler;
  let nextIssue = 1;

  async function newTask(turns: number, inStore: TaskStore = store): Promise<Task> {
    const n = nextIssue++;
    const { task } = await inStore.findOrCreate(repo, n, (id) => {
      const at = new Date().toISOString();
      return {
        v: 1,
        id,
        repo,
        issueNumber: n,
        issueTitle: `Issue ${n}`,
        requestedBy: 'alice',
        state: 'queued',
        createdAt: at,
        updatedAt: at,
        turns: Array.from({ length: turns }, (_, i) => turn(i + 1)),
      };
    });
    return task;
  }

  async function jobsOf(taskId: string, queue: Queue<TurnJob> = queues.turns): Promise<Job<TurnJob>[]> {
    const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
    return jobs.filter((j) => j?.data.taskId === taskId).sort((a, b) => a.data.turn - b.data.turn);
  }

  /** What a worker does at the end of a turn: finish it, then hand the task's next turn to the queue. */
  async function finish(taskId: string, n: number, to: 'completed' | 'failed' = 'completed') {
    await store.update(taskId, (t) => {
      const current = t.turns.find((x) => x.n === n);
      if (current?.state === 'queued') transitionTurn(t, n, 'running');
      transitionTurn(t, n, to);
    });
    return scheduler.dispatchNext(taskId);
  }

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    other = new Redis(server.url, { maxRetriesPerRequest: null });
    store = new TaskStore({ redis, prefix: PREFIX, ttlMs: 60_000 });
    queues = createQueues(redis, PREFIX);
    otherQueues = createQueues(other, PREFIX);
    scheduler = new TurnScheduler(store, queues.turns);
    otherScheduler = new TurnScheduler(
      new TaskStore({ redis: other, prefix: PREFIX, ttlMs: 60_000 }),
      otherQueues.turns,
    );
  });
  after(async () => {
    await queues?.close();
    await otherQueues?.close();
    await Promise.all([redis, other].map((c) => c?.quit().catch(() => undefined)));
    await server?.stop();
  });

  test('concurrent dispatchNext calls hand exactly one turn of a task to BullMQ', async () => {
    const task = await newTask(3);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? otherScheduler : scheduler).dispatchNext(task.id)),
    );
    assert.deepEqual(
      results.filter((r) => r !== undefined),
      [1],
      'one caller dispatched turn 1, every other call was a no-op',
    );
    const jobs = await jobsOf(task.id);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.id, turnJobId(task.id, 1));
    assert.deepEqual(jobs[0]!.data, { v: 1, taskId: task.id, turn: 1 });
    assert.equal((await store.get(task.id))?.dispatchedTurn, 1);
    assert.ok((await store.activeTaskIds()).includes(task.id));

    // Starting the turn does not release the slot either.
    await store.update(task.id, (t) => {
      transitionTurn(t, 1, 'running');
    });
    assert.equal(await scheduler.dispatchNext(task.id), undefined);
    assert.equal((await jobsOf(task.id)).length, 1);
    assert.equal(await scheduler.placeInLine(task.id, 1), 1);
    assert.equal(await scheduler.placeInLine(task.id, 3), 3);
  });

  test('finishing a turn dispatches the next one, in order, until the task is idle', async () => {
    const task = await newTask(3);
    assert.equal(await scheduler.dispatchNext(task.id), 1);
    assert.equal(await finish(task.id, 1), 2);
    assert.deepEqual(
      (await jobsOf(task.id)).map((j) => j.data.turn),
      [1, 2],
    );
    // A repeated dispatch while turn 2 is out is a no-op.
    assert.deepEqual(
      await Promise.all([scheduler.dispatchNext(task.id), otherScheduler.dispatchNext(task.id)]),
      [undefined, undefined],
    );
    assert.equal(await finish(task.id, 2, 'failed'), 3, 'a failed turn moves the task on too');
    assert.equal(await finish(task.id, 3), undefined);
    assert.deepEqual(
      (await jobsOf(task.id)).map((j) => j.data.turn),
      [1, 2, 3],
    );
    const stored = await store.get(task.id);
    assert.equal(stored?.dispatchedTurn, undefined);
    assert.equal(stored?.state, 'awaiting_instruction');
    assert.ok(!(await store.activeTaskIds()).includes(task.id), 'an idle task leaves the active set');
  });

  test('a repeated add of the same turn never makes a second job', async () => {
    const task = await newTask(1);
    assert.equal(await scheduler.dispatchNext(task.id), 1);
    await queues.turns.add('turn', { v: 1, taskId: task.id, turn: 1 }, { jobId: turnJobId(task.id, 1) });
    assert.equal((await jobsOf(task.id)).length, 1);
  });

  test('different tasks are dispatched in parallel', async () => {
    const tasks = await Promise.all([newTask(2), newTask(2), newTask(2)]);
    const results = await Promise.all(tasks.map((t) => scheduler.dispatchNext(t.id)));
    assert.deepEqual(results, [1, 1, 1]);
    for (const t of tasks)
      assert.deepEqual(
        (await jobsOf(t.id)).map((j) => j.data.turn),
        [1],
      );
  });

  test('reconcile re-adds a job lost between the claim and the add', async () => {
    const task = await newTask(2);
    // A crash right after the compare-and-set: the task says turn 1 is dispatched, BullMQ has nothing.
    await store.update(task.id, (t) => {
      t.dispatchedTurn = 1;
    });
    await store.markActive(task.id);
    assert.equal((await jobsOf(task.id)).length, 0);
    const lost: string[] = [];
    await scheduler.reconcile(async (id, n) => {
      lost.push(`${id}/${n}`);
    });
    assert.equal(lost.length, 0, `nothing lost: ${lost.join(', ')}`);
    const jobs = await jobsOf(task.id);
    assert.deepEqual(
      jobs.map((j) => j.id),
      [turnJobId(task.id, 1)],
    );
    // Reconciling again changes nothing.
    await scheduler.reconcile(async (id, n) => {
      lost.push(`${id}/${n}`);
    });
    assert.equal(lost.length, 0, `nothing lost: ${lost.join(', ')}`);
    assert.equal((await jobsOf(task.id)).length, 1);
  });

  test('reconcile repairs a dispatcher that died right after its claim was written', async () => {
    const task = await newTask(2);
    // The process dies the moment the compare-and-set returns: nothing after it runs.
    const dying = Object.create(store) as TaskStore;
    dying.update = async (id, mutate) => {
      await store.update(id, mutate);
      throw new Error('process died');
    };
    await assert.rejects(new TurnScheduler(dying, queues.turns).dispatchNext(task.id), /process died/);
    assert.equal((await store.get(task.id))?.dispatchedTurn, 1, 'the claim was written');
    assert.equal((await jobsOf(task.id)).length, 0);
    // Another worker's dispatchNext cannot help: the slot is taken.
    assert.equal(await scheduler.dispatchNext(task.id), undefined);
    await scheduler.reconcile(async () => assert.fail('a queued turn is not lost'));
    assert.deepEqual(
      (await jobsOf(task.id)).map((j) => j.id),
      [turnJobId(task.id, 1)],
      'reconcile found the task and re-added its job',
    );
  });

  test('reconcile reports a running turn whose job is gone, and failLost moves the task on', async () => {
    const task = await newTask(2);
    assert.equal(await scheduler.dispatchNext(task.id), 1);
    await store.update(task.id, (t) => {
      transitionTurn(t, 1, 'running');
    });
    await (await queues.turns.getJob(turnJobId(task.id, 1)))!.remove();

    const lost: [string, number][] = [];
    await scheduler.reconcile(async (id, n) => {
      lost.push([id, n]);
      await scheduler.failLost(id, n, 'The worker running this turn was lost.');
    });
    assert.deepEqual(
      lost.filter(([id]) => id === task.id),
      [[task.id, 1]],
    );
    const stored = await store.get(task.id);
    const t1 = stored!.turns[0]!;
    assert.equal(t1.state, 'failed');
    assert.equal(t1.endReason, 'worker_lost');
    assert.equal(t1.error, 'The worker running this turn was lost.');
    assert.equal(stored!.dispatchedTurn, 2, 'the next queued turn was dispatched');
    assert.deepEqual(
      (await jobsOf(task.id)).map((j) => j.id),
      [turnJobId(task.id, 2)],
    );
    // failLost on a finished turn is a no-op.
    assert.equal(await scheduler.failLost(task.id, 1, 'again'), false);
  });

  test('failLost keeps the commit an attempt pushed before it was lost on the failed turn', async () => {
    const task = await newTask(1);
    assert.equal(await scheduler.dispatchNext(task.id), 1);
    await store.update(task.id, (t) => {
      transitionTurn(t, 1, 'running', { attemptId: 'a1' });
      t.turns[0]!.published = {
        attemptId: 'a1',
        at: new Date().toISOString(),
        outcome: { state: 'completed' },
        patch: { commitSha: 'c0ffee1234567' },
      };
    });
    assert.equal(await scheduler.failLost(task.id, 1, 'The worker running this turn was lost.'), true);
    const t1 = (await store.get(task.id))!.turns[0]!;
    assert.equal(t1.state, 'failed');
    assert.equal(t1.endReason, 'worker_lost');
    assert.equal(t1.commitSha, 'c0ffee1234567');
    assert.equal(t1.published, undefined);
  });

  test('reconcile reports a running turn whose job failed', async () => {
    // A private queue name, so this worker sees only its own job.
    const prefix = `${PREFIX}failing:`;
    const failingStore = new TaskStore({ redis, prefix, ttlMs: 60_000 });
    const failingQueues = createQueues(redis, prefix);
    const failingScheduler = new TurnScheduler(failingStore, failingQueues.turns);
    const worker = new Worker<TurnJob>(
      TURNS_QUEUE,
      async (job) => {
        await failingStore.update(job.data.taskId, (t) => {
          transitionTurn(t, job.data.turn, 'running');
        });
        throw new Error('worker blew up without finishing the turn');
      },
      { connection: new Redis(server.url, { maxRetriesPerRequest: null }), prefix: bullPrefix(prefix) },
    );
    try {
      const copy = await newTask(1, failingStore);
      assert.equal(await failingScheduler.dispatchNext(copy.id), 1);
      const job = await waitFor(
        async () => {
          const j = await failingQueues.turns.getJob(turnJobId(copy.id, 1));
          return j && (await j.getState()) === 'failed' ? j : undefined;
        },
        10_000,
        { what: 'the turn job to fail' },
      );
      assert.match(job.failedReason, /blew up/);
      const lost: number[] = [];
      await failingScheduler.reconcile(async (id, n) => {
        if (id === copy.id) lost.push(n);
        await failingScheduler.failLost(id, n, 'lost');
      });
      assert.deepEqual(lost, [1]);
      const stored = await failingStore.get(copy.id);
      assert.equal(stored?.turns[0]?.state, 'failed');
      assert.equal(stored?.turns[0]?.endReason, 'worker_lost');
      assert.equal(stored?.dispatchedTurn, undefined);
      await failingScheduler.reconcile(async () => assert.fail('nothing is lost any more'));
      assert.ok(!(await failingStore.activeTaskIds()).includes(copy.id));
    } finally {
      await worker.close();
      await (worker.opts.connection as Redis).quit().catch(() => undefined);
      await failingQueues.close();
    }
  });

  test('reconcile releases a finished turn that still holds the slot and dispatches the next', async () => {
    const task = await newTask(2);
    assert.equal(await scheduler.dispatchNext(task.id), 1);
    // Finished, but the slot was not released (e.g. written by an older worker).
    await store.update(task.id, (t) => {
      transitionTurn(t, 1, 'running');
      transitionTurn(t, 1, 'completed');
      t.dispatchedTurn = 1;
    });
    await scheduler.reconcile(async () => assert.fail('a finished turn is not lost'));
    assert.equal((await store.get(task.id))?.dispatchedTurn, 2);
    assert.deepEqual(
      (await jobsOf(task.id)).map((j) => j.data.turn),
      [1, 2],
    );
  });

  test('a real BullMQ worker (concurrency 3) runs 3 tasks × 3 turns: serial per task, parallel across tasks', async () => {
    const prefix = `${PREFIX}worker:`;
    const wStore = new TaskStore({ redis, prefix, ttlMs: 60_000 });
    const wQueues = createQueues(redis, prefix);
    const wScheduler = new TurnScheduler(wStore, wQueues.turns);
    const connection = new Redis(server.url, { maxRetriesPerRequest: null });
    const runs: { taskId: string; turn: number; start: number; end: number }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const errors: unknown[] = [];

    const worker = new Worker<TurnJob>(
      TURNS_QUEUE,
      async (job) => {
        const { taskId, turn: n } = job.data;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const start = performance.now();
        try {
          await wStore.update(taskId, (t) => {
            transitionTurn(t, n, 'running');
          });
          await sleep(40 + Math.floor(Math.random() * 40));
          const end = performance.now();
          runs.push({ taskId, turn: n, start, end });
          await wStore.update(taskId, (t) => {
            transitionTurn(t, n, 'completed');
          });
        } catch (error) {
          errors.push(error);
          throw error;
        } finally {
          inFlight--;
        }
        await wScheduler.dispatchNext(taskId);
      },
      // Started once the first turns are queued, so all three tasks are waiting when it begins.
      { connection, prefix: bullPrefix(prefix), concurrency: 3, autorun: false },
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await newTask(3, wStore)).id);
      // Every task is nudged several times at once, as webhook handlers and workers would.
      await Promise.all(ids.flatMap((id) => [1, 2, 3].map(() => wScheduler.dispatchNext(id))));
      const running = worker.run();
      await waitFor(
        async () => {
          for (const id of ids) {
            const t = await wStore.get(id);
            if (!t || t.turns.some((x) => x.state !== 'completed')) return false;
          }
          return true;
        },
        20_000,
        { what: 'all 9 turns to complete' },
      );
      assert.deepEqual(errors, []);
      assert.equal(runs.length, 9);
      for (const id of ids) {
        const mine = runs.filter((r) => r.taskId === id).sort((a, b) => a.start - b.start);
        assert.deepEqual(
          mine.map((r) => r.turn),
          [1, 2, 3],
          'turns of a task run in order',
        );
        for (let i = 1; i < mine.length; i++) {
          assert.ok(
            mine[i]!.start >= mine[i - 1]!.end,
            `turn ${mine[i]!.turn} of ${id} overlapped the previous`,
          );
        }
        const stored = await wStore.get(id);
        assert.equal(stored?.dispatchedTurn, undefined);
        assert.deepEqual(
          stored?.turns.map((t) => t.attempts),
          [1, 1, 1],
          'every turn ran exactly once',
        );
      }
      const overlapAcrossTasks = runs.some((a) =>
        runs.some((b) => a.taskId !== b.taskId && a.start < b.end && b.start < a.end),
      );
      assert.ok(overlapAcrossTasks, 'turns of different tasks ran at the same time');
      assert.ok(maxInFlight >= 2 && maxInFlight <= 3, `max in flight ${maxInFlight}`);
      await worker.close();
      await running;
    } finally {
      await worker.close();
      await connection.quit().catch(() => undefined);
      await wQueues.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { CancelBus } from '../../src/tasks/cancel.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type RedisServer, startRedis } from '../kit/redis.js';

/**
 * `/forge stop` across processes: the webhook side and the worker each have their own CancelBus and
 * their own Redis connections, exactly like two processes.
 */

const PREFIX = 'it-cancel:';

describe('CancelBus across two connections', () => {
  let server: RedisServer;
  const connections: Redis[] = [];
  const buses: CancelBus[] = [];
  let seq = 0;
  const taskId = () => `tcancel${++seq}x`;

  const connect = () => {
    const c = new Redis(server.url);
    connections.push(c);
    return c;
  };
  /** A worker-side bus: listening on its own subscriber connection. */
  async function workerBus(pollMs: number): Promise<CancelBus> {
    const bus = new CancelBus(connect(), PREFIX);
    buses.push(bus);
    await bus.listen(connect(), pollMs);
    return bus;
  }

  let requester: CancelBus;

  before(async () => {
    server = await startRedis();
    requester = new CancelBus(connect(), PREFIX);
  });
  after(async () => {
    for (const bus of buses) await bus.close();
    await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    await server?.stop();
  });

  test('a stop request reaches a tracked turn in another process through pub/sub', async () => {
    // Polling is effectively off, so only the pub/sub message can abort the signal.
    const worker = await workerBus(600_000);
    const id = taskId();
    const tracked = worker.track(id, 1);
    const bystander = worker.track(id, 2);
    assert.equal(tracked.signal.aborted, false);
    const started = Date.now();
    await requester.request(id, 1);
    await waitFor(() => tracked.signal.aborted, 5000, { what: 'the tracked signal to abort' });
    assert.ok(Date.now() - started < 2000, 'pub/sub stops the turn at once');
    assert.match(String((tracked.signal.reason as Error).message), /stopped/);
    assert.equal(bystander.signal.aborted, false, 'another turn of the task is not stopped');
    assert.equal(await worker.isRequested(id, 1), true);
    assert.equal(await worker.isRequested(id, 2), false);
    tracked.release();
    bystander.release();
  });

  test('a request made before the turn was tracked is seen by polling (the message was missed)', async () => {
    const worker = await workerBus(50);
    const id = taskId();
    await requester.request(id, 1);
    // The pub/sub message went by while nobody tracked the turn.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await worker.isRequested(id, 1), true, 'a turn checks the flag when it starts');
    const tracked = worker.track(id, 1);
    assert.equal(tracked.signal.aborted, false);
    await waitFor(() => tracked.signal.aborted, 5000, { what: 'the poller to abort the signal' });
    tracked.release();
  });

  test('a released turn is no longer aborted, and a re-tracked turn gets a fresh signal', async () => {
    const worker = await workerBus(600_000);
    const id = taskId();
    const first = worker.track(id, 1);
    first.release();
    const second = worker.track(id, 1);
    // Releasing the old handle must not untrack the new one.
    first.release();
    await requester.request(id, 1);
    await waitFor(() => second.signal.aborted, 5000, { what: 'the re-tracked signal to abort' });
    assert.equal(first.signal.aborted, false, 'the released signal is left alone');
    second.release();
  });

  test('every listening worker hears the request; only the one tracking the turn aborts', async () => {
    const a = await workerBus(600_000);
    const b = await workerBus(600_000);
    const id = taskId();
    const onA = a.track(id, 3);
    const onB = b.track(id, 4);
    await requester.request(id, 3);
    await waitFor(() => onA.signal.aborted, 5000, { what: 'worker A to abort' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(onB.signal.aborted, false);
    onA.release();
    onB.release();
  });

  test('the stop flag expires (a day) rather than living forever', async () => {
    const id = taskId();
    await requester.request(id, 1);
    const ttl = await connections[0]!.ttl(`${PREFIX}cancel:${id}:1`);
    assert.ok(ttl > 0 && ttl <= 86_400, `ttl ${ttl}`);
  });
});

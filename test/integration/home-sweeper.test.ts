import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { sweepHomes } from '../../src/tasks/home-sweeper.js';
import { TaskStore } from '../../src/tasks/store.js';
import { closeTask } from '../../src/tasks/transitions.js';
import { type RedisServer, startRedis } from '../kit/redis.js';
import { fixtureTask } from '../kit/tasks.js';

describe('agent homes of finished tasks are removed (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: TaskStore;
  let homes: string;
  const log = { info: () => undefined, warn: () => undefined };

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new TaskStore({ redis, prefix: 'it-homes:', ttlMs: 60_000 });
    homes = mkdtempSync(join(tmpdir(), 'forge-homes-'));
  });
  after(async () => {
    await redis?.quit();
    await server?.stop();
    rmSync(homes, { recursive: true, force: true });
  });

  const home = (id: string) => {
    const dir = join(homes, id);
    mkdirSync(join(dir, '.claude', 'projects'), { recursive: true });
    writeFileSync(join(dir, '.claude', 'projects', 'session.jsonl'), '{"secret":"transcript"}\n');
    return dir;
  };
  const create = async (issue: number) =>
    (await store.findOrCreate(fixtureTask('x').repo, issue, (id) => fixtureTask(id, { issueNumber: issue })))
      .task;

  test('closed and expired tasks lose their home; open ones and foreign entries keep theirs', async () => {
    const open = await create(1);
    const closed = await create(2);
    await store.update(closed.id, (t) => {
      closeTask(t);
    });
    const expired = 'tmexpired00aa'; // a task id whose record is gone
    for (const id of [open.id, closed.id, expired]) home(id);
    mkdirSync(join(homes, 'lost+found'));
    writeFileSync(join(homes, 'tnotadir00000'), 'a file, not a home');
    // A link the agent might plant must be removed as a link, never followed.
    const outside = mkdtempSync(join(tmpdir(), 'forge-outside-'));
    writeFileSync(join(outside, 'keep'), 'kept');
    symlinkSync(outside, join(homes, closed.id, 'link'));

    const removed = await sweepHomes({ homesDir: homes, store, log });

    assert.deepEqual(removed.sort(), [closed.id, expired].sort());
    assert.ok(
      existsSync(join(homes, open.id, '.claude', 'projects', 'session.jsonl')),
      'an open task keeps its session',
    );
    assert.ok(!existsSync(join(homes, closed.id)));
    assert.ok(!existsSync(join(homes, expired)));
    assert.ok(existsSync(join(homes, 'lost+found')));
    assert.ok(existsSync(join(homes, 'tnotadir00000')));
    assert.ok(existsSync(join(outside, 'keep')), 'the link target is untouched');
    rmSync(outside, { recursive: true, force: true });
  });

  test('a missing homes directory is an empty round', async () => {
    assert.deepEqual(await sweepHomes({ homesDir: join(homes, 'nope'), store, log }), []);
  });
});

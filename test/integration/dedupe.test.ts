import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Deduper } from '../../src/intake/dedupe.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type RedisServer, startRedis } from '../kit/redis.js';

/** Webhook redelivery dedupe against a real (private) redis-server. */

const PREFIX = 'it-dedupe:';
const TTL_MS = 60_000;

describe('Deduper on a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let dedupe: Deduper;
  let seq = 0;
  const delivery = () => `delivery-${++seq}-${Date.now()}`;
  const commentId = () => 1_000_000 + ++seq;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    dedupe = new Deduper({ redis, prefix: PREFIX, ttlMs: TTL_MS });
  });
  after(async () => {
    await redis?.quit().catch(() => undefined);
    await server?.stop();
  });

  test('keys: one per delivery, one per comment (repository path case-insensitive)', () => {
    assert.deepEqual(dedupe.keysFor('github', 'Acme/Widgets', 'abc', 7), [
      `${PREFIX}seen:github:delivery:abc`,
      `${PREFIX}seen:github:comment:acme/widgets:7`,
    ]);
    assert.deepEqual(dedupe.keysFor('github', 'acme/widgets', 'abc'), [`${PREFIX}seen:github:delivery:abc`]);
  });

  test('event keys: claimed with the delivery; any one seen before makes a duplicate', async () => {
    assert.deepEqual(dedupe.withEventKeys(['payload-a']).keysFor('gitlab', 'G/P', 'abc', 7), [
      `${PREFIX}seen:gitlab:delivery:abc`,
      `${PREFIX}seen:gitlab:comment:g/p:7`,
      `${PREFIX}seen:gitlab:event:payload-a`,
    ]);
    assert.deepEqual(dedupe.keysFor('gitlab', 'g/p', 'abc'), [`${PREFIX}seen:gitlab:delivery:abc`]);
    const event = dedupe.withEventKeys([`payload-${delivery()}`]);
    assert.equal(await event.claim(event.keysFor('gitlab', 'g/p', delivery())), true);
    // The same event from another hook (another delivery id), or resent under a new one: a duplicate.
    const again = event.keysFor('gitlab', 'g/p', delivery());
    assert.equal(await event.claim(again), false);
    assert.equal(await redis.exists(again[0]!), 0, 'all or nothing: the new delivery id stays free');
    // Another event under a delivery id already seen is a duplicate too; under a new one it is new.
    const other = dedupe.withEventKeys([`payload-${delivery()}`]);
    const d = delivery();
    assert.equal(await dedupe.claim(dedupe.keysFor('gitlab', 'g/p', d)), true);
    assert.equal(await other.claim(other.keysFor('gitlab', 'g/p', d)), false);
    assert.equal(await other.claim(other.keysFor('gitlab', 'g/p', delivery())), true);
  });

  test('the first claim wins; the same delivery again is a duplicate', async () => {
    const keys = dedupe.keysFor('github', 'acme/widgets', delivery(), commentId());
    assert.equal(await dedupe.claim(keys), true);
    assert.equal(await dedupe.claim(keys), false);
  });

  test('a redelivery under a new delivery id of the same comment is a duplicate', async () => {
    const comment = commentId();
    assert.equal(await dedupe.claim(dedupe.keysFor('github', 'acme/widgets', delivery(), comment)), true);
    assert.equal(await dedupe.claim(dedupe.keysFor('github', 'Acme/Widgets', delivery(), comment)), false);
    // The same comment id in another repository is another comment.
    assert.equal(await dedupe.claim(dedupe.keysFor('github', 'acme/other', delivery(), comment)), true);
  });

  test('the same delivery id carrying another comment is a duplicate', async () => {
    const d = delivery();
    assert.equal(await dedupe.claim(dedupe.keysFor('github', 'acme/widgets', d, commentId())), true);
    assert.equal(await dedupe.claim(dedupe.keysFor('github', 'acme/widgets', d, commentId())), false);
  });

  test('claims are all-or-nothing: a refused claim sets none of its keys', async () => {
    const comment = commentId();
    const first = dedupe.keysFor('github', 'acme/widgets', delivery(), comment);
    assert.equal(await dedupe.claim(first), true);
    const second = dedupe.keysFor('github', 'acme/widgets', delivery(), comment);
    assert.equal(await dedupe.claim(second), false);
    assert.equal(await redis.exists(second[0]!), 0, 'the new delivery key was not set by a refused claim');
    // So that delivery id is still free for an event that does not carry the comment.
    assert.equal(await dedupe.claim([second[0]!]), true);
  });

  test('release lets a redelivery through after a failed enqueue', async () => {
    const keys = dedupe.keysFor('github', 'acme/widgets', delivery(), commentId());
    assert.equal(await dedupe.claim(keys), true);
    await dedupe.release(keys);
    assert.equal(await redis.exists(...keys), 0);
    assert.equal(await dedupe.claim(keys), true);
    assert.equal(await dedupe.claim(keys), false);
  });

  test('every claimed key carries the TTL', async () => {
    const keys = dedupe.keysFor('github', 'acme/widgets', delivery(), commentId());
    assert.equal(await dedupe.claim(keys), true);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > TTL_MS - 5000 && ttl <= TTL_MS, `${key} expires in ${ttl} ms`);
    }
  });

  test('claims expire, after which the event is new again', async () => {
    const short = new Deduper({ redis, prefix: PREFIX, ttlMs: 100 });
    const keys = short.keysFor('github', 'acme/widgets', delivery(), commentId());
    assert.equal(await short.claim(keys), true);
    await waitFor(async () => (await redis.exists(...keys)) === 0, 5000, { what: 'the claim to expire' });
    assert.equal(await short.claim(keys), true);
  });

  test('20 concurrent claims of one event from separate connections: exactly one wins', async () => {
    const clients = Array.from({ length: 20 }, () => new Redis(server.url));
    try {
      for (let round = 0; round < 10; round++) {
        const d = delivery();
        const c = commentId();
        const results = await Promise.all(
          clients.map((client, i) =>
            new Deduper({ redis: client, prefix: PREFIX, ttlMs: TTL_MS }).claim(
              // Half of them are redeliveries of the same comment under a new delivery id.
              dedupe.keysFor('github', 'acme/widgets', i % 2 ? d : `${d}-re${i}`, c),
            ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.join(',')}`);
      }
    } finally {
      await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
    }
  });
});

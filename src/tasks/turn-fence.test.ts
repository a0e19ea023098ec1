import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTurn } from '../../test/kit/tasks.js';
import { fenceOf, newAttemptId, Superseded } from './turn-fence.js';
import type { PublishedWork } from './types.js';

const published = (attemptId?: string): PublishedWork => ({
  ...(attemptId ? { attemptId } : {}),
  at: '2026-01-01T00:00:00.000Z',
  outcome: { state: 'completed' },
  patch: { commitSha: 'abc1234' },
});

test('an attempt owns its running turn until another attempt id is written on it', () => {
  const turn = fixtureTurn(1, { state: 'running', attemptId: 'a1' });
  assert.equal(fenceOf(turn, 'a1'), 'owner');
  const newer = fenceOf({ ...turn, attemptId: 'a2' }, 'a1');
  assert.ok(newer instanceof Superseded);
  assert.equal(newer.why, 'newer_attempt');
  assert.ok(fenceOf({ ...turn, attemptId: undefined }, 'a1') instanceof Superseded);
});

test('a turn finished elsewhere is no longer its attempt’s, even with its id', () => {
  const fence = fenceOf(fixtureTurn(1, { state: 'failed', attemptId: 'a1' }), 'a1');
  assert.ok(fence instanceof Superseded);
  assert.equal(fence.why, 'finished');
});

test('an owner finds an earlier attempt’s published work; its own record is just its own', () => {
  const turn = fixtureTurn(1, { state: 'running', attemptId: 'a2', published: published('a1') });
  assert.equal(fenceOf(turn, 'a2'), 'published');
  assert.equal(fenceOf({ ...turn, published: published() }, 'a2'), 'published', 'found on the branch');
  assert.equal(fenceOf({ ...turn, published: published('a2') }, 'a2'), 'owner');
});

test('attempt ids are fresh', () => {
  const ids = new Set(Array.from({ length: 100 }, () => newAttemptId()));
  assert.equal(ids.size, 100);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTask, fixtureTurn } from '../../test/kit/tasks.js';
import { canTransition, closeTask, deriveTaskState, TransitionError, transitionTurn } from './transitions.js';
import type { Task, Turn } from './types.js';

const turn = (n: number, state: Turn['state'] = 'queued'): Turn =>
  fixtureTurn(n, { place: { type: 'issue', number: 7 }, state, createdAt: '2026-01-01T00:00:00.000Z' });
const task = (turns: Turn[]): Task => fixtureTask('tabc123def', { issueNumber: 7, issueTitle: 'T', turns });

test('a turn goes queued → running → completed, and the task waits for the next instruction', () => {
  const t = task([turn(1)]);
  t.dispatchedTurn = 1;
  transitionTurn(t, 1, 'running');
  assert.equal(t.state, 'running');
  assert.equal(t.turns[0]!.attempts, 1);
  assert.ok(t.turns[0]!.startedAt);
  transitionTurn(t, 1, 'completed', { commitSha: 'abc' });
  assert.equal(t.state, 'awaiting_instruction');
  assert.equal(t.turns[0]!.commitSha, 'abc');
  assert.ok(t.turns[0]!.finishedAt);
  assert.equal(t.dispatchedTurn, undefined, 'finishing releases the per-task slot');
});

test('finished turns never move again, and queued turns cannot skip running', () => {
  for (const done of ['completed', 'failed', 'cancelled'] as const) {
    for (const to of ['queued', 'running', 'completed', 'failed', 'cancelled'] as const) {
      assert.equal(canTransition(done, to), false, `${done} → ${to}`);
    }
  }
  assert.equal(canTransition('queued', 'completed'), false);
  assert.equal(canTransition('queued', 'failed'), false);
  const t = task([turn(1, 'completed')]);
  assert.throws(() => transitionTurn(t, 1, 'running'), TransitionError);
  assert.throws(() => transitionTurn(t, 2, 'running'), /no turn 2/);
});

test('a crashed turn can be picked up again (running → running counts attempts)', () => {
  const t = task([turn(1)]);
  transitionTurn(t, 1, 'running');
  transitionTurn(t, 1, 'running');
  assert.equal(t.turns[0]!.attempts, 2);
});

test('every start hands the turn to a new attempt: the previous attempt id no longer owns it', () => {
  const t = task([turn(1)]);
  transitionTurn(t, 1, 'running', { attemptId: 'a1' });
  assert.equal(t.turns[0]!.attemptId, 'a1');
  transitionTurn(t, 1, 'running', { attemptId: 'a2' });
  assert.equal(t.turns[0]!.attemptId, 'a2');
  transitionTurn(t, 1, 'running');
  assert.equal(t.turns[0]!.attemptId, undefined, 'a start without an id leaves no owner behind');
  transitionTurn(t, 1, 'completed');
  assert.equal(t.turns[0]!.attempts, 3);
});

test('task state is derived from its turns', () => {
  assert.equal(deriveTaskState(task([turn(1, 'completed'), turn(2, 'queued')])), 'queued');
  assert.equal(deriveTaskState(task([turn(1, 'running'), turn(2, 'queued')])), 'running');
  assert.equal(deriveTaskState(task([turn(1, 'failed')])), 'awaiting_instruction');
});

test('closing a task cancels waiting turns and stays closed', () => {
  const t = task([turn(1, 'completed'), turn(2, 'queued')]);
  const cancelled = closeTask(t);
  assert.deepEqual(
    cancelled.map((x) => x.n),
    [2],
  );
  assert.equal(t.turns[1]!.state, 'cancelled');
  assert.equal(t.turns[1]!.endReason, 'task_closed');
  assert.equal(t.state, 'closed');
  assert.equal(deriveTaskState(t), 'closed');
});

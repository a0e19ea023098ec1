import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixtureTask, fixtureTurn } from '../../test/kit/tasks.js';
import { continueTurn } from './requests.js';

describe('continueTurn', () => {
  test('continues the last turn when it was interrupted, with its WIP commit', () => {
    const task = fixtureTask('tcont1', {
      turns: [
        fixtureTurn(1, { state: 'cancelled', endReason: 'stopped', commitSha: 'abc1234', instruction: 'A' }),
      ],
    });
    assert.deepEqual(continueTurn(task), {
      instruction: 'A',
      options: {},
      mode: 'continue',
      continues: { turn: 1, state: 'cancelled', endReason: 'stopped', commitSha: 'abc1234' },
    });
  });

  test('a continue turn refused at start by a budget cap points back at the interrupted turn and its commit', () => {
    const task = fixtureTask('tcont2', {
      turns: [
        fixtureTurn(1, { state: 'cancelled', endReason: 'limit', commitSha: 'wip1111', instruction: 'A' }),
        // Refused before any work: no commit, no usage.
        fixtureTurn(2, {
          state: 'cancelled',
          endReason: 'limit',
          instruction: 'A',
          mode: 'continue',
          continues: { turn: 1, state: 'cancelled', endReason: 'limit', commitSha: 'wip1111' },
        }),
        fixtureTurn(3, {
          state: 'cancelled',
          endReason: 'limit',
          instruction: 'A',
          mode: 'continue',
          continues: { turn: 2, state: 'cancelled', endReason: 'limit' },
        }),
      ],
    });
    const asked = continueTurn(task);
    assert.ok(!('reply' in asked));
    assert.deepEqual(asked.continues, {
      turn: 1,
      state: 'cancelled',
      endReason: 'limit',
      commitSha: 'wip1111',
    });
    assert.equal(asked.instruction, 'A');
  });

  test('a continue turn that left work of its own is the one continued', () => {
    const task = fixtureTask('tcont3', {
      turns: [
        fixtureTurn(1, { state: 'cancelled', endReason: 'stopped', commitSha: 'wip1111' }),
        fixtureTurn(2, {
          state: 'failed',
          endReason: 'agent_failed',
          commitSha: 'wip2222',
          mode: 'continue',
          continues: { turn: 1, state: 'cancelled', endReason: 'stopped', commitSha: 'wip1111' },
        }),
      ],
    });
    const asked = continueTurn(task);
    assert.ok(!('reply' in asked));
    assert.deepEqual(asked.continues, {
      turn: 2,
      state: 'failed',
      endReason: 'agent_failed',
      commitSha: 'wip2222',
    });
  });

  test('a fresh instruction refused at start is continued itself (it never ran)', () => {
    const task = fixtureTask('tcont4', {
      turns: [
        fixtureTurn(1, { state: 'cancelled', endReason: 'limit', commitSha: 'wip1111', instruction: 'A' }),
        fixtureTurn(2, { state: 'cancelled', endReason: 'limit', instruction: 'B' }),
      ],
    });
    const asked = continueTurn(task);
    assert.ok(!('reply' in asked));
    assert.equal(asked.instruction, 'B');
    assert.deepEqual(asked.continues, { turn: 2, state: 'cancelled', endReason: 'limit' });
  });

  test('nothing to continue: no task, a running turn, a completed one', () => {
    assert.match((continueTurn(undefined) as { reply: string }).reply, /nothing to continue/);
    const running = fixtureTask('tcont5', { turns: [fixtureTurn(1, { state: 'running' })] });
    assert.match((continueTurn(running) as { reply: string }).reply, /Turn 1 is still running/);
    const done = fixtureTask('tcont6', { turns: [fixtureTurn(1, { state: 'completed' })] });
    assert.match(
      (continueTurn(done) as { reply: string }).reply,
      /completed, so there is nothing to continue/,
    );
  });
});

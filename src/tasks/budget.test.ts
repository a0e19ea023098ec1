import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTask, fixtureTurn } from '../../test/kit/tasks.js';
import { capBeforeTurn, capDuringTurn, taskSpend } from './budget.js';
import { effectiveLimits } from './turn-budget.js';

const limits = { maxAgentSteps: 10, maxTaskCostUsd: 5, maxTaskTokens: 1000, maxRepoDailyCostUsd: 20 };

test('taskSpend adds up earlier turns and skips the current one', () => {
  const task = fixtureTask('t1', {
    turns: [
      fixtureTurn(1, { usage: { inputTokens: 100, outputTokens: 50, costUsd: 1.5 } }),
      fixtureTurn(2, { usage: { inputTokens: 10, outputTokens: 5 } }),
      fixtureTurn(3, { usage: { inputTokens: 1, outputTokens: 1, costUsd: 9 } }),
    ],
  });
  assert.deepEqual(taskSpend(task, 3), { costUsd: 1.5, tokens: 165 });
});

test('a used-up task, token or repository budget refuses the next turn and names the setting', () => {
  assert.equal(capBeforeTurn(limits, { costUsd: 4.99, tokens: 999 }, 19.9), undefined);
  assert.match(capBeforeTurn(limits, { costUsd: 5, tokens: 0 }, 0)!.message, /FORGE_MAX_TASK_COST_USD/);
  assert.equal(capBeforeTurn(limits, { costUsd: 0, tokens: 1000 }, 0)!.cap, 'task_tokens');
  assert.match(
    capBeforeTurn(limits, { costUsd: 0, tokens: 0 }, 20)!.message,
    /FORGE_MAX_REPO_DAILY_COST_USD/,
  );
});

test('during a turn, steps, cost on top of earlier turns, tokens and the repository day all stop it', () => {
  const before = { costUsd: 4, tokens: 500 };
  const spend = { requests: 1, inputTokens: 10, outputTokens: 10, costUsd: 0.5 };
  assert.equal(capDuringTurn(limits, before, 0, spend), undefined);
  assert.equal(capDuringTurn(limits, before, 0, { ...spend, requests: 10 })!.cap, 'agent_steps');
  assert.equal(capDuringTurn(limits, before, 0, { ...spend, costUsd: 1 })!.cap, 'task_cost');
  assert.equal(capDuringTurn(limits, before, 0, { ...spend, inputTokens: 490 })!.cap, 'task_tokens');
  assert.equal(capDuringTurn(limits, { costUsd: 0, tokens: 0 }, 19.6, spend)!.cap, 'repo_daily_cost');
});

test("the repository's cap messages use the host's word for it", () => {
  const spend = { requests: 1, inputTokens: 10, outputTokens: 10, costUsd: 0.5 };
  assert.match(capBeforeTurn(limits, { costUsd: 0, tokens: 0 }, 20)!.message, /^This repository has used/);
  assert.match(
    capBeforeTurn(limits, { costUsd: 0, tokens: 0 }, 20, 'project')!.message,
    /^This project has used \$20\.00 of its \$20\.00 daily model budget/,
  );
  assert.match(
    capDuringTurn(limits, { costUsd: 0, tokens: 0 }, 19.6, spend, 'project')!.message,
    /^The project reached its daily model budget of \$20\.00\./,
  );
});

test("a repository's limits narrow every operator limit, never widen one", () => {
  const operator = { maxAgentSteps: 10, maxTaskCostUsd: 5, maxTaskTokens: 1000, maxRepoDailyCostUsd: 20 };
  assert.deepEqual(effectiveLimits(operator, undefined), operator);
  assert.deepEqual(
    effectiveLimits(operator, {
      maxAgentSteps: 4,
      maxTaskCostUsd: 9,
      maxTaskTokens: 300,
      maxRepoDailyCostUsd: 7,
    }),
    { maxAgentSteps: 4, maxTaskCostUsd: 5, maxTaskTokens: 300, maxRepoDailyCostUsd: 7 },
  );
  // The repository's daily budget is what the next turn is checked against.
  assert.match(
    capBeforeTurn(effectiveLimits(operator, { maxRepoDailyCostUsd: 7 }), { costUsd: 0, tokens: 0 }, 7.5)
      ?.message ?? '',
    /used \$7\.50 of its \$7\.00 daily model budget/,
  );
});

import assert from 'node:assert/strict';
import { after } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../../kit/fake-upstream.js';
import { MODEL_STREAMS } from '../../kit/model-streams.js';
import { defineScenarios, type ForgeDriver, onIssue, type StartDriver, useDriver } from '../driver.js';

// FORGE_MODEL_PRICES makes each recorded reply (claude-haiku-4-5: 412 in, 9 out) cost exactly $0.421.
const perRequest = MODEL_STREAMS.anthropicJson.expected;
const costPerRequest = ((perRequest.inputTokens + perRequest.outputTokens) * 1000) / 1e6;

/**
 * Caps end to end: the agent reaches its model through Forge's real model gateway (the scripted
 * agent's `[model:N]` makes Anthropic requests with the turn's token) against a strict fake
 * provider. A cap stops the turn, keeps its work as a WIP commit, and says what happened.
 * Defines the tests on a driver of its own (the caps are settings of the whole Forge).
 */
export function defineLimitScenarios(start: StartDriver): void {
  let upstream: FakeUpstream | undefined;
  const d = useDriver(start, {
    before: async () => {
      upstream = await startFakeUpstream();
    },
    env: () => ({
      ANTHROPIC_BASE_URL: upstream!.baseUrls.anthropic,
      ANTHROPIC_API_KEY: upstream!.keys.anthropic,
      FORGE_MODEL_PRICES: 'claude-haiku-4-5=1000/1000',
      FORGE_MAX_AGENT_STEPS: '2',
      FORGE_MAX_TASK_COST_USD: '2',
    }),
    extraChecks: () => upstream?.assertClean(),
  });
  after(async () => {
    await upstream?.close();
  });
  const up = () => upstream!;
  defineScenarios(
    [
      {
        name: 'the agent-step cap stops the turn, keeps its work as a WIP commit and says how to go on',
        run: (x) => stepCap(x, up()),
      },
      {
        name: 'a task over its cost budget runs no further turn and explains who can raise it',
        run: (x) => costCap(x, up()),
      },
      // Last: the settings stay on the default branch.
      {
        name: "a repository's settings file narrows the agent-step cap for its turns",
        run: (x) => repoCap(x, up()),
      },
      {
        name: "a repository's maxTaskTokens and maxRepoDailyCostUsd narrow the operator's caps",
        run: (x) => repoTokenAndDailyCaps(x, up()),
      },
    ],
    d,
  );
}

async function stepCap(d: ForgeDriver, upstream: FakeUpstream) {
  const at = onIssue(d.newIssue('Log every step'));
  const before = upstream.requests.length;
  await d.ask(at, '/forge add a changelog entry [model:5]');
  const task = await d.settled(at);
  const turn = task.turns[0]!;
  assert.equal(turn.state, 'cancelled');
  assert.equal(turn.endReason, 'limit');
  assert.match(turn.error ?? '', /limit of 2 agent steps/);
  assert.equal(turn.limit, 'agent_steps');
  assert.equal(upstream.requests.length - before, 2, 'the third request never reached the provider');

  // What the gateway measured, not what the agent said.
  assert.deepEqual(turn.usage, {
    inputTokens: 2 * perRequest.inputTokens,
    outputTokens: 2 * perRequest.outputTokens,
    costUsd: 2 * costPerRequest,
  });
  assert.ok(turn.commitSha, 'the work was committed');
  assert.equal(
    await d.git.fileAt(d.gitRepo, task.branch!, 'CHANGES.md'),
    '- add a changelog entry [model:5]\n',
  );
  const log = await d.git.log(d.gitRepo, task.branch!);
  assert.match(log[0]?.message ?? '', /^WIP: /);
  assert.equal(log[0]?.sha, turn.commitSha, 'pushed');
  const cr = d.changeRequests().find((c) => c.branch === task.branch);
  assert.ok(cr, 'the work is on a change request');
  assert.equal(cr.draft, true, 'unfinished work opens as a draft');
  assert.match(cr.body, /### Where the agent stopped/);
  assert.match(cr.body, /did not finish \(The turn reached its limit of 2 agent steps/);

  const sticky = d.sticky(at, task.id);
  assert.ok(sticky);
  assert.match(sticky.body, /limit of 2 agent steps/);
  // What was done, what remains, how to continue.
  assert.match(sticky.body, /\*\*What was done:\*\* The work so far is kept: commit `[0-9a-f]{7}`/);
  assert.match(sticky.body, /<summary>The agent's last message<\/summary>[\s\S]*Edited CHANGES\.md/);
  assert.match(
    sticky.body,
    /\*\*What remains:\*\* the agent did not finish “add a changelog entry \[model:5\]”/,
  );
  assert.match(sticky.body, /`\/forge continue`/);
  assert.ok(
    sticky.body.includes(`raise \`limits.maxAgentSteps\` in \`${d.settingsPath}\` on \`main\``),
    sticky.body,
  );
  assert.match(sticky.body, /`FORGE_MAX_AGENT_STEPS`/);
  // Tokens and cost of the turn and of the task (one turn so far), in the comment and the check.
  const usage = `🪙 ${2 * perRequest.inputTokens} tokens in, ${2 * perRequest.outputTokens} out, $0.84 · task: ${2 * (perRequest.inputTokens + perRequest.outputTokens)} tokens, $0.84`;
  assert.ok(sticky.body.includes(usage), sticky.body);
  const check = d.checks(turn.commitSha!).at(-1);
  assert.equal(check?.state, 'cancelled');
  assert.equal(
    check?.title,
    `Turn 1: cancelled · ${2 * (perRequest.inputTokens + perRequest.outputTokens)} tokens, $0.84`,
  );
  if (check?.summary !== undefined) {
    assert.ok(check.summary.includes(usage), check.summary);
    assert.match(check.summary, /\*\*What remains:\*\*/);
  }
}

async function costCap(d: ForgeDriver, upstream: FakeUpstream) {
  const at = onIssue(d.newIssue('Spend the budget'));
  // 2 requests of $0.421 each: under the $2 budget, so the turn completes.
  await d.ask(at, '/forge first pass [model:2]');
  assert.equal((await d.settled(at)).turns[0]!.state, 'completed');
  await d.ask(at, '/forge second pass [model:2]');
  assert.equal((await d.settled(at, 2)).turns[1]!.state, 'completed');
  // $1.684 spent; the third turn may start ($1.684 < $2) but is cut off when it crosses $2.
  const before = upstream.requests.length;
  await d.ask(at, '/forge third pass [model:2]');
  const thirdTask = await d.settled(at, 3);
  const third = thirdTask.turns[2]!;
  assert.equal(third.state, 'cancelled');
  assert.equal(third.endReason, 'limit');
  assert.match(third.error ?? '', /model budget of \$2\.00/);
  assert.equal(third.limit, 'task_cost');
  assert.equal(upstream.requests.length - before, 1, 'the request over the budget was refused');
  assert.ok(third.commitSha, 'its work is kept');
  assert.equal((await d.git.branches(d.gitRepo))[thirdTask.branch!], third.commitSha, 'and pushed');
  // The turn's one request, and the task's five over three turns ($2.105).
  const thirdCheck = d.checks(third.commitSha!).at(-1);
  assert.equal(thirdCheck?.state, 'cancelled');
  assert.match(thirdCheck?.title ?? '', /^Turn 3: cancelled · 421 tokens, \$0\.42$/);
  if (thirdCheck?.summary !== undefined) {
    assert.match(
      thirdCheck.summary,
      new RegExp(
        `🪙 ${perRequest.inputTokens} tokens in, ${perRequest.outputTokens} out, \\$0\\.42 · task: 2\\.1k tokens, \\$2\\.1[01]`,
      ),
    );
  }

  // Now the budget is used up: the next turn does not start at all.
  const beforeFourth = upstream.requests.length;
  await d.ask(at, '/forge fourth pass [model:1]');
  const task = await d.settled(at, 4);
  const fourth = task.turns[3]!;
  assert.equal(fourth.state, 'cancelled');
  assert.equal(fourth.endReason, 'limit');
  assert.match(fourth.error ?? '', /This task has used \$2\.1[01] of its \$2\.00 model budget/);
  assert.match(fourth.error ?? '', /FORGE_MAX_TASK_COST_USD/);
  assert.equal(upstream.requests.length, beforeFourth, 'no model request');
  assert.equal(fourth.commitSha, undefined, 'nothing ran, nothing to commit');
  assert.equal(fourth.usage, undefined);
  const sticky = d.sticky(at, task.id)?.body ?? '';
  assert.match(sticky, /FORGE_MAX_TASK_COST_USD/, 'the sticky explains');
  // The refused turn used nothing, but the comment still shows what the task has spent.
  assert.match(sticky, /🪙 task so far: 2\.1k tokens, \$2\.1[01]/);
  assert.match(sticky, /\*\*What was done:\*\* Nothing was committed\./);
}

async function repoCap(d: ForgeDriver, upstream: FakeUpstream) {
  await d.git.pushAs(
    d.gitRepo,
    'main',
    { [d.settingsPath]: 'limits:\n  maxAgentSteps: 1\n' },
    'Forge settings',
  );
  const at = onIssue(d.newIssue('One step only'));
  const before = upstream.requests.length;
  await d.ask(at, '/forge add an entry [model:3]');
  const turn = (await d.settled(at)).turns[0]!;
  assert.equal(turn.endReason, 'limit');
  assert.match(turn.error ?? '', /limit of 1 agent steps/);
  assert.equal(upstream.requests.length - before, 1);
  assert.ok(turn.commitSha, 'its work is kept');
}

async function repoTokenAndDailyCaps(d: ForgeDriver, upstream: FakeUpstream) {
  await d.git.pushAs(
    d.gitRepo,
    'main',
    { [d.settingsPath]: 'limits:\n  maxTaskTokens: 400\n' },
    'Forge settings',
  );
  const at = onIssue(d.newIssue('Few tokens'));
  const before = upstream.requests.length;
  await d.ask(at, '/forge add an entry [model:3]');
  const turn = (await d.settled(at)).turns[0]!;
  assert.equal(turn.endReason, 'limit');
  assert.match(turn.error ?? '', /The task reached its limit of 400 tokens/);
  assert.equal(turn.limit, 'task_tokens');
  assert.equal(upstream.requests.length - before, 1, '421 tokens after the first request');
  assert.ok(turn.commitSha, 'its work is kept');

  // Earlier turns in this file spent more than $1 today: a $1 daily budget refuses the next turn.
  await d.git.pushAs(
    d.gitRepo,
    'main',
    { [d.settingsPath]: 'limits:\n  maxRepoDailyCostUsd: 1\n' },
    'Forge settings',
  );
  const next = onIssue(d.newIssue('Daily budget'));
  const beforeNext = upstream.requests.length;
  await d.ask(next, '/forge add an entry [model:1]');
  const refused = (await d.settled(next)).turns[0]!;
  assert.equal(refused.endReason, 'limit');
  assert.match(
    refused.error ?? '',
    /This (repository|project) has used \$\d+\.\d\d of its \$1\.00 daily model budget/,
  );
  assert.equal(upstream.requests.length, beforeNext, 'no model request');
}

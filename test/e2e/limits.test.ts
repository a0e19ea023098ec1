import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../kit/fake-upstream.js';
import { MODEL_STREAMS } from '../kit/model-streams.js';
import { type Harness, REPO, startHarness } from './harness.js';

/**
 * Caps end to end: the agent reaches its model through Forge's real model gateway (the scripted
 * agent's `[model:N]` makes Anthropic requests with the turn's token) against a strict fake
 * provider. A cap stops the turn, keeps its work as a WIP commit, and says what happened.
 */
describe('limits that keep the work', () => {
  let h: Harness;
  let upstream: FakeUpstream;
  // FORGE_MODEL_PRICES makes each recorded reply (claude-haiku-4-5: 412 in, 9 out) cost exactly $0.421.
  const perRequest = MODEL_STREAMS.anthropicJson.expected;
  const costPerRequest = ((perRequest.inputTokens + perRequest.outputTokens) * 1000) / 1e6;

  before(async () => {
    upstream = await startFakeUpstream();
    h = await startHarness({
      env: {
        ANTHROPIC_BASE_URL: upstream.baseUrls.anthropic,
        ANTHROPIC_API_KEY: upstream.keys.anthropic,
        FORGE_MODEL_PRICES: 'claude-haiku-4-5=1000/1000',
        FORGE_MAX_AGENT_STEPS: '2',
        FORGE_MAX_TASK_COST_USD: '2',
      },
    });
  });
  after(async () => {
    await h?.close();
    await upstream?.close();
  });
  afterEach(() => {
    h.github.assertNoViolations();
    upstream.assertClean();
  });

  const stickyOf = (issue: number, taskId: string) =>
    h.github.comments(REPO, issue).find((c) => c.body.includes(`<!-- forge:task:${taskId}:${issue} -->`));

  test('the agent-step cap stops the turn, keeps its work as a WIP commit and says how to go on', async () => {
    const issue = h.newIssue('Log every step');
    const before = upstream.requests.length;
    await h.comment({ number: issue, body: '/forge add a changelog entry [model:5]' });
    const task = await h.settled(issue);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'cancelled');
    assert.equal(turn.endReason, 'limit');
    assert.match(turn.error ?? '', /limit of 2 agent steps/);
    assert.equal(upstream.requests.length - before, 2, 'the third request never reached the provider');

    // What the gateway measured, not what the agent said.
    assert.deepEqual(turn.usage, {
      inputTokens: 2 * perRequest.inputTokens,
      outputTokens: 2 * perRequest.outputTokens,
      costUsd: 2 * costPerRequest,
    });
    assert.ok(turn.commitSha, 'the work was committed');
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      '- add a changelog entry [model:5]\n',
    );
    const log = await h.git.log(`${REPO}.git`, task.branch!);
    assert.match(log[0]?.message ?? '', /^WIP: /);
    const pull = h.github.pulls(REPO).find((p) => p.head === task.branch);
    assert.ok(pull, 'the work is on a pull request');
    assert.equal(pull.draft, true, 'unfinished work opens as a draft');

    const sticky = stickyOf(issue, task.id);
    assert.ok(sticky);
    assert.match(sticky.body, /limit of 2 agent steps/);
    assert.match(sticky.body, /The work so far is kept: commit `[0-9a-f]{7}`/);
    assert.match(sticky.body, /`\/forge continue`/);
    assert.match(sticky.body, /\$0\.84/, 'the cost is shown');
  });

  test('a task over its cost budget runs no further turn and explains who can raise it', async () => {
    const issue = h.newIssue('Spend the budget');
    // 2 requests of $0.421 each: under the $2 budget, so the turn completes.
    await h.comment({ number: issue, body: '/forge first pass [model:2]' });
    assert.equal((await h.settled(issue)).turns[0]!.state, 'completed');
    await h.comment({ number: issue, body: '/forge second pass [model:2]' });
    assert.equal((await h.settled(issue, 2)).turns[1]!.state, 'completed');
    // $1.684 spent; the third turn may start ($1.684 < $2) but is cut off when it crosses $2.
    const before = upstream.requests.length;
    await h.comment({ number: issue, body: '/forge third pass [model:2]' });
    const third = (await h.settled(issue, 3)).turns[2]!;
    assert.equal(third.state, 'cancelled');
    assert.equal(third.endReason, 'limit');
    assert.match(third.error ?? '', /model budget of \$2\.00/);
    assert.equal(upstream.requests.length - before, 1, 'the request over the budget was refused');
    assert.ok(third.commitSha, 'its work is kept');

    // Now the budget is used up: the next turn does not start at all.
    const beforeFourth = upstream.requests.length;
    await h.comment({ number: issue, body: '/forge fourth pass [model:1]' });
    const task = await h.settled(issue, 4);
    const fourth = task.turns[3]!;
    assert.equal(fourth.state, 'cancelled');
    assert.equal(fourth.endReason, 'limit');
    assert.match(fourth.error ?? '', /This task has used \$2\.1[01] of its \$2\.00 model budget/);
    assert.match(fourth.error ?? '', /FORGE_MAX_TASK_COST_USD/);
    assert.equal(upstream.requests.length, beforeFourth, 'no model request');
    assert.equal(fourth.commitSha, undefined, 'nothing ran, nothing to commit');
  });

  // Last in this file: the settings stay on the default branch.
  test("a repository's .github/forge.yml narrows the agent-step cap for its turns", async () => {
    await h.git.pushAs(
      `${REPO}.git`,
      'main',
      { '.github/forge.yml': 'limits:\n  maxAgentSteps: 1\n' },
      'Forge settings',
    );
    const issue = h.newIssue('One step only');
    const before = upstream.requests.length;
    await h.comment({ number: issue, body: '/forge add an entry [model:3]' });
    const turn = (await h.settled(issue)).turns[0]!;
    assert.equal(turn.endReason, 'limit');
    assert.match(turn.error ?? '', /limit of 1 agent steps/);
    assert.equal(upstream.requests.length - before, 1);
    assert.ok(turn.commitSha, 'its work is kept');
  });

  test("a repository's maxTaskTokens and maxRepoDailyCostUsd narrow the operator's caps", async () => {
    await h.git.pushAs(
      `${REPO}.git`,
      'main',
      { '.github/forge.yml': 'limits:\n  maxTaskTokens: 400\n' },
      'Forge settings',
    );
    const issue = h.newIssue('Few tokens');
    const before = upstream.requests.length;
    await h.comment({ number: issue, body: '/forge add an entry [model:3]' });
    const turn = (await h.settled(issue)).turns[0]!;
    assert.equal(turn.endReason, 'limit');
    assert.match(turn.error ?? '', /The task reached its limit of 400 tokens/);
    assert.equal(upstream.requests.length - before, 1, '421 tokens after the first request');
    assert.ok(turn.commitSha, 'its work is kept');

    // Earlier turns in this file spent more than $1 today: a $1 daily budget refuses the next turn.
    await h.git.pushAs(
      `${REPO}.git`,
      'main',
      { '.github/forge.yml': 'limits:\n  maxRepoDailyCostUsd: 1\n' },
      'Forge settings',
    );
    const next = h.newIssue('Daily budget');
    const beforeNext = upstream.requests.length;
    await h.comment({ number: next, body: '/forge add an entry [model:1]' });
    const refused = (await h.settled(next)).turns[0]!;
    assert.equal(refused.endReason, 'limit');
    assert.match(
      refused.error ?? '',
      /This repository has used \$\d+\.\d\d of its \$1\.00 daily model budget/,
    );
    assert.equal(upstream.requests.length, beforeNext, 'no model request');
  });
});

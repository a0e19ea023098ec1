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
  /** The check run of a turn, as Forge last wrote it. */
  const checkOf = (taskId: string, turn: number) =>
    h.github.checkRuns(REPO).find((c) => c.externalId === `${taskId}-${turn}`);

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
    // What was done, what remains, how to continue.
    assert.match(sticky.body, /\*\*What was done:\*\* The work so far is kept: commit `[0-9a-f]{7}`/);
    assert.match(sticky.body, /<summary>The agent's last message<\/summary>[\s\S]*Edited CHANGES\.md/);
    assert.match(
      sticky.body,
      /\*\*What remains:\*\* the agent did not finish “add a changelog entry \[model:5\]”/,
    );
    assert.match(sticky.body, /`\/forge continue`/);
    assert.match(
      sticky.body,
      /raise `limits\.maxAgentSteps` in `\.github\/forge\.yml` on `main`.*`FORGE_MAX_AGENT_STEPS`/,
    );
    // Tokens and cost of the turn and of the task (one turn so far), in the comment and the check run.
    const usage = `🪙 ${2 * perRequest.inputTokens} tokens in, ${2 * perRequest.outputTokens} out, $0.84 · task: ${2 * (perRequest.inputTokens + perRequest.outputTokens)} tokens, $0.84`;
    assert.ok(sticky.body.includes(usage), sticky.body);
    const check = checkOf(task.id, 1);
    assert.equal(check?.headSha, turn.commitSha);
    assert.equal(check?.status, 'completed');
    assert.equal(check?.conclusion, 'cancelled');
    assert.ok(check?.output.summary?.includes(usage), check?.output.summary ?? 'no summary');
    assert.match(check?.output.summary ?? '', /\*\*What remains:\*\*/);
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
    const afterThird = await h.settled(issue, 3);
    const third = afterThird.turns[2]!;
    assert.equal(third.state, 'cancelled');
    assert.equal(third.endReason, 'limit');
    assert.match(third.error ?? '', /model budget of \$2\.00/);
    assert.equal(upstream.requests.length - before, 1, 'the request over the budget was refused');
    assert.ok(third.commitSha, 'its work is kept');
    // The turn's one request, and the task's five over three turns ($2.105).
    const thirdCheck = checkOf(afterThird.id, 3);
    assert.equal(thirdCheck?.conclusion, 'cancelled');
    assert.match(
      thirdCheck?.output.summary ?? '',
      new RegExp(
        `🪙 ${perRequest.inputTokens} tokens in, ${perRequest.outputTokens} out, \\$0\\.42 · task: 2\\.1k tokens, \\$2\\.1[01]`,
      ),
    );

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
    assert.equal(fourth.usage, undefined);
    // The refused turn used nothing, but the comment still shows what the task has spent.
    const sticky = stickyOf(issue, task.id);
    assert.match(sticky?.body ?? '', /🪙 task so far: 2\.1k tokens, \$2\.1[01]/);
    assert.match(sticky?.body ?? '', /\*\*What was done:\*\* Nothing was committed\./);
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
});

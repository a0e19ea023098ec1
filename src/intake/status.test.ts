import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTask, fixtureTurn } from '../../test/kit/tasks.js';
import { GITHUB_WORDS } from '../forge/github/forge.js';
import { renderStatus } from './status.js';

test('status shows every turn with its tokens and cost, the totals, and the queue in order', () => {
  const task = fixtureTask('tstatus1', {
    state: 'running',
    branch: 'forge/1-x',
    changeRequest: { number: 2, url: 'http://x/pull/2' },
    turns: [
      fixtureTurn(1, {
        state: 'completed',
        commitSha: 'abcdef1234567',
        usage: { inputTokens: 12_000, outputTokens: 800, costUsd: 0.42 },
      }),
      fixtureTurn(2, { state: 'failed', usage: { inputTokens: 3_000, outputTokens: 200 } }),
      fixtureTurn(3, { state: 'running', requestedBy: 'bob', instruction: 'fix | the `pipes`' }),
      fixtureTurn(4, { state: 'queued', requestedBy: 'maya', instruction: 'then the docs' }),
      fixtureTurn(5, {
        state: 'queued',
        requestedBy: 'alice',
        instruction: 'and the `changelog`',
        mode: 'address_reviews',
      }),
    ],
  });
  const body = renderStatus(task, GITHUB_WORDS, 'http://forge.test/tasks/x');
  assert.match(body, /\*\*Forge task\*\* `tstatus1` is running\./);
  assert.match(body, /PR: #2 \(branch `forge\/1-x`\)/);
  assert.match(body, /\| 1 \| completed \| @alice \| do 1 \| `abcdef1` \| 12k \/ 800 \| \$0\.42 \|/);
  assert.match(body, /\| 2 \| failed \| @alice \| do 2 \| — \| 3\.0k \/ 200 \| — \|/);
  assert.match(body, /\| 3 \| running \| @bob \| fix \\\| the `pipes` \| — \| — \| — \|/);
  assert.match(body, /\| 5 \| queued \(address reviews\) \|/);
  assert.match(
    body,
    /\*\*So far:\*\* 5 turns · 16k tokens \(15k in, 1\.0k out\) · \$0\.42 \(plus 1 turn without a known price\)/,
  );
  assert.match(body, /\*\*Running:\*\* turn 3, asked by @bob\./);
  assert.match(
    body,
    /\*\*Waiting in line \(2\), in the order they will run:\*\*\n1\. Turn 4, asked by @maya: then the docs\n2\. Turn 5, asked by @alice: and the 'changelog'/,
  );
  assert.match(body, /\[Full log\]\(http:\/\/forge\.test\/tasks\/x\)/);
});

test('status without usage or a queue says so; no task gets a pointer to start one', () => {
  const idle = fixtureTask('tstatus2', {
    state: 'awaiting_instruction',
    turns: [fixtureTurn(1, { state: 'completed', noChanges: true })],
  });
  const body = renderStatus(idle, GITHUB_WORDS);
  assert.match(body, /is waiting for your next instruction/);
  assert.match(body, /\*\*So far:\*\* 1 turn; no model usage measured yet\./);
  assert.match(body, /Nothing is waiting\./);
  assert.doesNotMatch(body, /Running|Waiting in line|Full log/);
  assert.match(renderStatus(undefined, GITHUB_WORDS), /no Forge task here yet/);
});

/**
 * The real Claude Code CLI (pinned, from npm) run by ClaudeCodeAgent in the LocalSandbox against
 * the fake Anthropic model: a scripted edit and shell command on a temporary checkout, resume on a
 * later turn (in a new checkout path, as Forge gives each turn), a lost session, a prompt far beyond
 * the argv/env limit, errors the user can act on, cancellation, and where the per-turn token goes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClaudeCodeAgent, DEFAULT_CLAUDE_CODE_MODEL } from '../../src/agents/claude-code.js';
import { type AgentHarness, startAgentHarness, type Turn } from '../kit/agent-harness.js';
import { anthropicProtocol } from '../kit/fake-model/protocols/anthropic.js';
import { filesContaining, gitStatus } from './agent-cli-checks.js';
import {
  assertInstructionsReached,
  assertReplayed,
  assertReported,
  assertTokenOnlyInEnvironment,
  bigPromptTurn,
  type CliUnderTest,
  cancelledTurn,
  cliExec,
  lostSessionTurn,
  proxyTurn,
  refusedKeyTurn,
} from './agent-cli-scenarios.js';

const INSTRUCTIONS_MARKER = 'claude-md-marker-7f3a';
const TURN1 =
  'Add the notes and record a run. [[write:notes/hello.txt:hello from claude]] ' +
  '[[shell:echo "ran in $(basename $PWD)" > shell-ran.txt]] [[say:I added notes/hello.txt and ran the script.]]';
let harness: AgentHarness;
let first: Turn;

const cli: CliUnderTest = {
  harness: () => harness,
  agent: new ClaudeCodeAgent(),
  subject: 'Claude Code',
  keySetting: 'ANTHROPIC_API_KEY',
  isCliExec: (exec) => exec.argv[0] === 'claude',
  tokenEnv: 'ANTHROPIC_API_KEY',
  sentToken: (request, token) => request.headers['x-api-key'] === token,
  pointAt: (url) => ({ anthropicBaseUrl: url }),
};

before(async () => {
  harness = await startAgentHarness({
    cli: 'claude',
    protocols: [anthropicProtocol],
    label: 'claude-code-it',
  });
  const checkoutDir = await harness.checkout({
    'CLAUDE.md': `# Project rules\nAlways mention ${INSTRUCTIONS_MARKER}.\n`,
  });
  first = await harness.runTurn(cli.agent, { prompt: TURN1 }, { checkoutDir });
});

after(() => harness?.close());

describe('ClaudeCodeAgent with the real Claude Code CLI', { concurrency: false }, () => {
  it('writes the file and runs the shell command of a scripted turn, contacting nothing but the model', () => {
    assert.equal(first.result.conclusion, 'success', first.result.error);
    assert.equal(first.result.exitCode, 0);
    assert.equal(readFileSync(join(first.checkoutDir, 'notes/hello.txt'), 'utf8'), 'hello from claude');
    assert.match(readFileSync(join(first.checkoutDir, 'shell-ran.txt'), 'utf8'), /^ran in checkout-\d+\n$/);
    harness.fake.assertNoViolations();
    assert.deepEqual(harness.egress, [], 'nothing but the model was contacted');
  });

  it('returns the summary, the session id and the usage the model served', () => {
    assertReported(first, {
      summary: 'I added notes/hello.txt and ran the script.',
      tools: [
        { type: 'tool', name: 'Write', detail: 'notes/hello.txt' },
        { type: 'tool', name: 'Bash', detail: 'echo "ran in $(basename $PWD)" > shell-ran.txt' },
      ],
      cost: true,
    });
    assert.match(first.result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    // Claude Code names its session in every request.
    assert.ok(first.requests.every((r) => r.headers['x-claude-code-session-id'] === first.result.sessionId));
  });

  it('is invoked with the prompt on stdin, the model flag and unattended permissions', () => {
    assert.equal(first.execs.length, 1);
    const exec = cliExec(cli, first);
    assert.deepEqual(exec.argv, [
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      `--model=${DEFAULT_CLAUDE_CODE_MODEL}`,
      '--dangerously-skip-permissions',
    ]);
    assert.equal(exec.stdin, TURN1);
    assert.equal(exec.env.DISABLE_TELEMETRY, '1');
    assert.equal(exec.env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, '1');
    assert.equal(exec.env.DISABLE_AUTOUPDATER, '1');
    assert.equal(exec.env.ANTHROPIC_BASE_URL, harness.fake.url);
    // The alias resolved by the CLI is what the model saw.
    assert.ok(first.requests.every((r) => /^claude-sonnet-/.test(r.exchange.model)));
  });

  it('reads the repository CLAUDE.md (its content reaches the model)', () => {
    assert.ok(first.requests.length >= 3);
    assertInstructionsReached(first, [INSTRUCTIONS_MARKER], 'user');
  });

  it('uses the turn token only as the API key: never in argv, files or output', async () => {
    await assertTokenOnlyInEnvironment(cli, first);
  });

  it('keeps its configuration and sessions in the home, not in the checkout', async () => {
    assert.deepEqual(gitStatus(first.checkoutDir), ['?? notes/hello.txt', '?? shell-ran.txt']);
    assert.ok(existsSync(join(harness.homeDir, '.claude.json')));
    const sessions = await filesContaining(join(harness.homeDir, '.claude', 'projects'), 'hello from claude');
    assert.ok(
      sessions.some((p) => p.endsWith(`${first.result.sessionId}.jsonl`)),
      sessions.join(', '),
    );
  });

  it('resumes the session on a later turn, in a new checkout path', async () => {
    const checkoutDir = await harness.nextCheckout(first.checkoutDir);
    const prompt = 'Second turn. [[shell:echo two > second.txt]] [[say:Second turn done.]]';
    const second = await harness.runTurn(
      cli.agent,
      { prompt, sessionId: first.result.sessionId },
      { checkoutDir },
    );
    assert.equal(second.result.conclusion, 'success', second.result.error);
    assert.equal(second.execs.length, 1);
    assert.ok(cliExec(cli, second).argv.includes(`--resume=${first.result.sessionId}`));
    assert.equal(second.result.sessionId, first.result.sessionId);
    assert.equal(second.result.summary, 'Second turn done.');
    assert.equal(readFileSync(join(checkoutDir, 'second.txt'), 'utf8'), 'two\n');
    assert.ok(second.requests.length >= 2);
    assertReplayed(second.requests[0]!, {
      prompts: [TURN1],
      toolCalls: ['Write', 'Bash'],
      answers: ['I added notes/hello.txt and ran the script.'],
      prompt,
    });
    // Per-run cost, not the session's running total.
    assert.equal(
      second.result.usage?.inputTokens,
      second.requests.reduce((n, r) => n + r.usage.inputTokens, 0),
    );
    assert.ok((second.result.usage?.costUsd ?? 0) < (first.result.usage?.costUsd ?? 0) * 2);
    harness.fake.assertNoViolations();
  });

  it('starts a new session when the home no longer has the one to resume', async () => {
    const lost = '00000000-0000-4000-8000-000000000000';
    const turn = await lostSessionTurn(cli, lost);
    assert.equal(turn.execs.length, 2, 'the resume attempt, then a new session');
    assert.ok(turn.execs[0]?.argv.includes(`--resume=${lost}`));
    assert.ok(!turn.execs[1]?.argv.some((a) => a.startsWith('--resume')));
  });

  it('reaches the model directly, past the egress proxy the commands it runs are given', async () => {
    await proxyTurn(cli);
  });

  it('passes a prompt over 200 KiB intact on stdin', async () => {
    await bigPromptTurn(cli);
  });

  it('explains a model API refusal in words the user can act on', async () => {
    const turn = await refusedKeyTurn(
      cli,
      {
        status: 401,
        body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
      },
      new ClaudeCodeAgent({ env: { CLAUDE_CODE_MAX_RETRIES: '0' } }),
    );
    assert.ok(turn.result.sessionId, 'the session id is kept even when the turn failed');
  });

  it('returns cancelled as soon as the turn is aborted, with the CLI and its tool command stopped', async () => {
    await cancelledTurn(cli);
  });
});

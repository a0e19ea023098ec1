/**
 * The real Codex CLI (pinned, from npm) run by CodexAgent in the LocalSandbox against the fake
 * OpenAI Responses model: a scripted edit and shell command on a temporary checkout (with Codex's
 * default model, which uses its JavaScript "code mode" tools, and with a model that gets the classic
 * tool list), resume on a later turn in a new checkout path, a lost session, a prompt far beyond the
 * argv/env limit, errors the user can act on, cancellation, the config.toml the runner writes, and
 * where the per-turn token goes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CODEX_TOKEN_ENV, CodexAgent, DEFAULT_CODEX_MODEL } from '../../src/agents/codex.js';
import { type AgentHarness, startAgentHarness, type Turn } from '../kit/agent-harness.js';
import { openaiResponsesProtocol } from '../kit/fake-model/protocols/openai-responses.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';
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

const INSTRUCTIONS_MARKER = 'agents-md-marker-91c2';
const TURN1 =
  'Add the notes and record a run. [[write:notes/hello.txt:hello from codex]] ' +
  '[[shell:echo "ran in $(basename $PWD)" > shell-ran.txt]] [[say:I added notes/hello.txt and ran the script.]]';
let harness: AgentHarness;
let first: Turn;

const cli: CliUnderTest = {
  harness: () => harness,
  // --strict-config: Codex refuses config keys it does not know, so a typo in the runner's config fails here.
  agent: new CodexAgent({ extraArgs: ['--strict-config'] }),
  subject: 'Codex',
  keySetting: 'OPENAI_API_KEY',
  isCliExec: (exec) => exec.argv[0] === 'codex',
  tokenEnv: CODEX_TOKEN_ENV,
  sentToken: (request, token) => request.headers.authorization === `Bearer ${token}`,
  pointAt: (url) => ({ openaiBaseUrl: `${url}/v1` }),
};
const served = (requests: RecordedRequest[]) =>
  requests.reduce(
    (sum, r) => ({ input: sum.input + r.usage.inputTokens, output: sum.output + r.usage.outputTokens }),
    { input: 0, output: 0 },
  );

before(async () => {
  harness = await startAgentHarness({
    cli: 'codex',
    protocols: [openaiResponsesProtocol],
    label: 'codex-it',
  });
  const checkoutDir = await harness.checkout({
    'AGENTS.md': `# Agent rules\nAlways mention ${INSTRUCTIONS_MARKER}.\n`,
  });
  first = await harness.runTurn(cli.agent, { prompt: TURN1 }, { checkoutDir });
});

after(() => harness?.close());

describe('CodexAgent with the real Codex CLI', { concurrency: false }, () => {
  it('writes the file and runs the shell command of a scripted turn, contacting nothing but the model', () => {
    assert.equal(first.result.conclusion, 'success', first.result.error);
    assert.equal(first.result.exitCode, 0);
    // An apply_patch "Add File" ends every line with a newline.
    assert.equal(readFileSync(join(first.checkoutDir, 'notes/hello.txt'), 'utf8'), 'hello from codex\n');
    assert.match(readFileSync(join(first.checkoutDir, 'shell-ran.txt'), 'utf8'), /^ran in checkout-\d+\n$/);
    // The default model gets Codex's code mode: one `exec` tool that calls the real tools.
    assert.ok(first.requests.every((r) => r.exchange.model === DEFAULT_CODEX_MODEL));
    assert.deepEqual(
      first.requests.map((r) => (r.reply.kind === 'tool' ? r.reply.name : 'text')),
      ['exec', 'exec', 'text'],
    );
    harness.fake.assertNoViolations();
    assert.deepEqual(harness.egress, [], 'nothing but the model was contacted');
  });

  it('returns the summary, the session id and the usage the model served', () => {
    assertReported(first, {
      summary: 'I added notes/hello.txt and ran the script.',
      tools: [
        { type: 'tool', name: 'edit', detail: 'notes/hello.txt' },
        { type: 'tool', name: 'shell', detail: 'echo "ran in $(basename $PWD)" > shell-ran.txt' },
      ],
      cost: false,
    });
    assert.match(first.result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(first.requests.every((r) => r.headers['session-id'] === first.result.sessionId));
  });

  it('is invoked with the prompt on stdin, the model flag and no approvals', () => {
    assert.equal(first.execs.length, 1);
    const exec = cliExec(cli, first);
    assert.deepEqual(exec.argv, [
      'codex',
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      `--model=${DEFAULT_CODEX_MODEL}`,
      '--strict-config',
      '-',
    ]);
    assert.equal(exec.stdin, TURN1);
    assert.equal(exec.env.CODEX_HOME, join(harness.homeDir, '.codex'));
  });

  it('writes its config.toml into the home: the gateway as the only provider, no secret', () => {
    const config = readFileSync(join(harness.homeDir, '.codex', 'config.toml'), 'utf8');
    assert.match(config, /^model_provider = "forge"$/m);
    assert.match(config, /^\[model_providers\.forge\]$/m);
    assert.ok(config.includes(`base_url = "${harness.fake.url}/v1"`));
    assert.ok(config.includes(`env_key = "${CODEX_TOKEN_ENV}"`));
    assert.match(config, /^wire_api = "responses"$/m);
    assert.ok(!config.includes(first.token));
  });

  it('reads the repository AGENTS.md (its content reaches the model)', () => {
    assert.ok(first.requests.length >= 3);
    assertInstructionsReached(first, [INSTRUCTIONS_MARKER], 'user');
  });

  it('uses the turn token only as the API key: never in argv, files or output', async () => {
    await assertTokenOnlyInEnvironment(cli, first);
  });

  it('keeps the token out of the environment of the commands it runs', async () => {
    const run = await harness.runTurn(cli.agent, { prompt: 'Dump. [[shell:env > env.txt]] [[say:Dumped.]]' });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    const env = readFileSync(join(run.checkoutDir, 'env.txt'), 'utf8');
    assert.match(env, /^CODEX_HOME=/m, 'the environment was dumped');
    assert.ok(!env.includes(run.token));
    assert.ok(!env.includes(CODEX_TOKEN_ENV));
  });

  it('keeps its configuration and sessions in the home, not in the checkout', async () => {
    assert.deepEqual(gitStatus(first.checkoutDir), ['?? notes/hello.txt', '?? shell-ran.txt']);
    const sessions = await filesContaining(join(harness.homeDir, '.codex', 'sessions'), 'hello from codex');
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
    assert.deepEqual(cliExec(cli, second).argv.slice(-3), ['resume', first.result.sessionId, '-']);
    assert.equal(second.result.sessionId, first.result.sessionId);
    assert.equal(second.result.summary, 'Second turn done.');
    assert.equal(readFileSync(join(checkoutDir, 'second.txt'), 'utf8'), 'two\n');
    assert.ok(second.requests.length >= 2);
    assertReplayed(second.requests[0]!, {
      prompts: [TURN1],
      toolCalls: ['exec', 'exec'],
      answers: ['I added notes/hello.txt and ran the script.'],
      prompt,
    });
    // This run's tokens, not the session's running total Codex reports.
    assert.equal(second.result.usage?.inputTokens, served(second.requests).input);
    harness.fake.assertNoViolations();
  });

  it('uses the model a turn asks for (here one Codex offers its classic tools: apply_patch, exec_command)', async () => {
    const run = await harness.runTurn(cli.agent, {
      prompt:
        'Classic. [[write:classic.txt:two\nlines]] [[shell:ls classic.txt > listed.txt]] [[say:Classic done.]]',
      model: 'gpt-5.5',
    });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    assert.ok(cliExec(cli, run).argv.includes('--model=gpt-5.5'));
    assert.ok(run.requests.every((r) => r.exchange.model === 'gpt-5.5'));
    assert.deepEqual(
      run.requests.map((r) => (r.reply.kind === 'tool' ? r.reply.name : 'text')),
      ['apply_patch', 'exec_command', 'text'],
    );
    assert.equal(readFileSync(join(run.checkoutDir, 'classic.txt'), 'utf8'), 'two\nlines\n');
    assert.equal(readFileSync(join(run.checkoutDir, 'listed.txt'), 'utf8'), 'classic.txt\n');
    harness.fake.assertNoViolations();
  });

  it('starts a new session when the home no longer has the one to resume', async () => {
    const turn = await lostSessionTurn(cli, '00000000-0000-4000-8000-000000000000');
    assert.equal(turn.execs.length, 2, 'the resume attempt, then a new session');
    assert.ok(turn.execs[0]?.argv.includes('resume'));
    assert.ok(!turn.execs[1]?.argv.includes('resume'));
  });

  it('reaches the model directly, past the egress proxy the commands it runs are given', async () => {
    await proxyTurn(cli);
  });

  it('passes a prompt over 200 KiB intact on stdin', async () => {
    await bigPromptTurn(cli);
  });

  it('explains a model API refusal in words the user can act on', async () => {
    const body = {
      error: {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    };
    // Codex retries a refused stream 5 times by default; extra args override its provider config.
    const quick = new CodexAgent({
      extraArgs: [
        '-c',
        'model_providers.forge.stream_max_retries=0',
        '-c',
        'model_providers.forge.request_max_retries=0',
      ],
    });
    const turn = await refusedKeyTurn(cli, { status: 401, body }, quick);
    assert.match(turn.result.error ?? '', /Incorrect API key provided/);
  });

  it('returns cancelled as soon as the turn is aborted, with the CLI and its tool command stopped', async () => {
    await cancelledTurn(cli);
  });
});

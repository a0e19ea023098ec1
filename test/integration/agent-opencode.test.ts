/**
 * OpenCodeAgent with the real OpenCode (pinned, from .cache/agent-clis) in the LocalSandbox, against
 * the strict fake Chat Completions API: a scripted edit (apply_patch for the default gpt model, write
 * for others), resuming in the same and in a moved checkout, a lost session, a prompt over 200 KiB,
 * a refused model call, cancellation. No fake-model violation and no connection besides the model.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_OPENCODE_MODEL, OpenCodeAgent } from '../../src/agents/opencode.js';
import { type AgentHarness, startAgentHarness, type Turn } from '../kit/agent-harness.js';
import { openaiChatProtocol } from '../kit/fake-model/protocols/openai-chat.js';
import { gitStatus } from './agent-cli-checks.js';
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

let harness: AgentHarness;
const cli: CliUnderTest = {
  harness: () => harness,
  agent: new OpenCodeAgent(),
  subject: 'OpenCode',
  keySetting: 'OPENAI_API_KEY',
  isCliExec: (exec) => exec.argv[0] === 'opencode' && exec.argv[1] === 'run',
  tokenEnv: 'FORGE_MODEL_TOKEN',
  sentToken: (request, token) => request.headers.authorization === `Bearer ${token}`,
  pointAt: (url) => ({ openaiBaseUrl: `${url}/v1` }),
};

before(async () => {
  harness = await startAgentHarness({
    cli: 'opencode',
    protocols: [openaiChatProtocol],
    label: 'opencode-it',
  });
});
after(() => harness.close());

const TURN1 =
  'Add a greeting. [[write:src/hello.txt:Hello from OpenCode]] [[shell:echo ran > shell-ran.txt]] [[say:Wrote src/hello.txt and ran the shell.]]';
const TURN2 = 'Second turn. [[write:src/second.txt:two]] [[say:Added src/second.txt.]]';

describe('OpenCodeAgent with the real OpenCode', { concurrency: false }, () => {
  let checkoutDir: string;
  let first: Turn;

  it('runs a scripted edit: the file is written, the shell ran, summary, session and usage come back', async () => {
    checkoutDir = await harness.checkout({
      'AGENTS.md': 'AGENTS-MARKER: indent with tabs.\n',
      'src/.keep': '',
    });
    first = await harness.runTurn(cli.agent, { prompt: TURN1 }, { checkoutDir });
    const { result, requests } = first;
    assert.equal(result.conclusion, 'success', result.error);
    assert.equal(result.exitCode, 0);
    // apply_patch writes lines: an added file ends with a newline.
    assert.equal(await readFile(join(checkoutDir, 'src/hello.txt'), 'utf8'), 'Hello from OpenCode\n');
    assert.equal(await readFile(join(checkoutDir, 'shell-ran.txt'), 'utf8'), 'ran\n');
    assertReported(first, {
      summary: 'Wrote src/hello.txt and ran the shell.',
      tools: [
        { type: 'tool', name: 'apply_patch', detail: 'src/hello.txt' },
        { type: 'tool', name: 'bash', detail: 'echo ran > shell-ran.txt' },
      ],
      cost: false,
    });
    assert.match(result.sessionId ?? '', /^ses_[A-Za-z0-9]+$/);
    // The --title spares OpenCode's title request: every request is a step of the agent, with tools.
    assert.equal(requests.length, 3);
    assert.ok(
      requests.every((r) => r.exchange.tools.includes('bash') && r.exchange.model === DEFAULT_OPENCODE_MODEL),
    );
    harness.fake.assertNoViolations();
    assert.deepEqual(harness.egress, [], 'nothing but the model was contacted (no npm, no models.dev)');
  });

  it('read AGENTS.md from the checkout', () => {
    assertInstructionsReached(first, ['AGENTS-MARKER: indent with tabs.'], 'system');
  });

  it('got the prompt on stdin, forge/<model> on argv, the proxy and its switches in the environment', () => {
    const exec = cliExec(cli, first);
    assert.deepEqual(exec.argv, [
      'opencode',
      'run',
      '--format',
      'json',
      `--model=forge/${DEFAULT_OPENCODE_MODEL}`,
      '--auto',
      '--title',
      'Forge task task-1',
    ]);
    assert.equal(exec.stdin, TURN1);
    assert.equal(exec.env.OPENCODE_DISABLE_MODELS_FETCH, '1');
    assert.equal(exec.env.HTTPS_PROXY, harness.proxyUrl);
    assert.ok(exec.env.NO_PROXY?.split(',').includes('127.0.0.1'));
  });

  it('uses the turn token only as the API key: never in argv, files or output', async () => {
    await assertTokenOnlyInEnvironment(cli, first);
  });

  it('keeps its configuration in the task home, never in the checkout', async () => {
    const config = JSON.parse(
      await readFile(join(harness.homeDir, '.config/opencode/opencode.json'), 'utf8'),
    );
    assert.equal(config.model, `forge/${DEFAULT_OPENCODE_MODEL}`);
    assert.deepEqual(config.provider.forge.options, {
      baseURL: `${harness.fake.url}/v1`,
      apiKey: '{env:FORGE_MODEL_TOKEN}',
    });
    assert.equal(config.provider.forge.npm, '@ai-sdk/openai-compatible');
    assert.deepEqual(gitStatus(checkoutDir), ['?? shell-ran.txt', '?? src/hello.txt']);
  });

  it('resumes the session in the same checkout with --session: the model sees turn 1', async () => {
    const turn = await harness.runTurn(
      cli.agent,
      { prompt: TURN2, sessionId: first.result.sessionId! },
      { checkoutDir },
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.equal(turn.execs.length, 1, 'same directory: no export/import');
    assert.deepEqual(cliExec(cli, turn).argv.slice(-2), ['--session', first.result.sessionId]);
    assert.equal(turn.result.sessionId, first.result.sessionId);
    assert.equal(turn.result.summary, 'Added src/second.txt.');
    assert.equal(await readFile(join(checkoutDir, 'src/second.txt'), 'utf8'), 'two\n');
    const history = turn.requests[0]!;
    assertReplayed(history, { prompts: [TURN1], toolCalls: ['apply_patch', 'bash'], prompt: TURN2 });
    assert.ok(history.exchange.messages.at(-1)?.text.includes(TURN2));
    harness.fake.assertNoViolations();
  });

  it('moves the session to a moved checkout (export, rewrite, import) and resumes it there', async () => {
    const moved = await harness.nextCheckout(checkoutDir);
    const prompt = 'Third turn. [[shell:echo third > third.txt]] [[say:Ran the third step.]]';
    const turn = await harness.runTurn(
      cli.agent,
      { prompt, sessionId: first.result.sessionId! },
      { checkoutDir: moved },
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.deepEqual(
      turn.execs.map((e) => e.argv.slice(0, 5)),
      [
        ['sh', '-c', 'exec "$0" export "$1" > "$2"', 'opencode', first.result.sessionId],
        ['opencode', 'import', turn.execs[1]!.argv[2]],
        ['opencode', 'run', '--format', 'json', `--model=forge/${DEFAULT_OPENCODE_MODEL}`],
      ],
    );
    assert.deepEqual(cliExec(cli, turn).argv.slice(-2), ['--session', first.result.sessionId]);
    assert.equal(turn.result.sessionId, first.result.sessionId);
    assert.equal(await readFile(join(moved, 'third.txt'), 'utf8'), 'third\n');
    assert.deepEqual(
      gitStatus(checkoutDir),
      ['?? shell-ran.txt', '?? src/hello.txt', '?? src/second.txt'],
      'the old checkout was left alone',
    );
    assertReplayed(turn.requests[0]!, {
      prompts: [TURN1, TURN2],
      toolCalls: ['apply_patch', 'bash', 'apply_patch'],
      prompt,
    });
    harness.fake.assertNoViolations();
  });

  it('starts a new session when the home no longer has the one to resume', async () => {
    const turn = await lostSessionTurn(cli, 'ses_0000000000lost');
    assert.equal(turn.execs.length, 2, 'the export that found nothing, then a new session');
    assert.ok(cliExec(cli, turn).argv.includes('--title'));
    assert.ok(!cliExec(cli, turn).argv.includes('--session'));
  });

  it('gives the commands it runs the egress proxy while reaching the model directly', async () => {
    await proxyTurn(cli);
  });

  it("uses OpenCode's write tool with a model that is not a gpt, and passes a prompt over 200 KiB intact", async () => {
    const turn = await bigPromptTurn(cli, {
      agent: new OpenCodeAgent({ model: 'qwen3-coder' }),
      directives: '[[write:big.txt:done]] ',
    });
    assert.equal(await readFile(join(turn.checkoutDir, 'big.txt'), 'utf8'), 'done');
    assert.deepEqual(
      turn.events.filter((e) => e.type === 'tool'),
      [{ type: 'tool', name: 'write', detail: 'big.txt' }],
    );
    assert.ok(turn.requests.every((r) => r.exchange.model === 'qwen3-coder'));
  });

  it('fails with a reason the user can act on when the model API refuses the credentials', async () => {
    const turn = await refusedKeyTurn(cli, {
      status: 401,
      body: {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });
    assert.match(turn.result.error!, /^OpenCode failed: Incorrect API key provided\./);
  });

  it('returns cancelled as soon as the turn is aborted, with the CLI and its tool command stopped', async () => {
    await cancelledTurn(cli);
  });
});

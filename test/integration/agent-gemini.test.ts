/**
 * GeminiAgent with the real Gemini CLI (pinned, from .cache/agent-clis) in the LocalSandbox, against
 * the strict fake Gemini API: a scripted edit, resuming in the same and in a moved checkout, a lost
 * session, a prompt over 200 KiB, a refused model call, cancellation. No fake-model violation and no
 * connection besides the model.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_GEMINI_MODEL, GeminiAgent } from '../../src/agents/gemini.js';
import { TRUNCATED_MARKER } from '../../src/sandbox/lines.js';
import { type AgentHarness, startAgentHarness, type Turn } from '../kit/agent-harness.js';
import { geminiProtocol } from '../kit/fake-model/protocols/gemini.js';
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

let harness: AgentHarness;
const cli: CliUnderTest = {
  harness: () => harness,
  agent: new GeminiAgent(),
  subject: 'Gemini CLI',
  keySetting: 'GEMINI_API_KEY',
  isCliExec: (exec) => exec.argv[0] === 'gemini',
  tokenEnv: 'GEMINI_API_KEY',
  sentToken: (request, token) => request.headers['x-goog-api-key'] === token,
  pointAt: (url) => ({ geminiBaseUrl: url }),
};

before(async () => {
  harness = await startAgentHarness({ cli: 'gemini', protocols: [geminiProtocol], label: 'gemini-it' });
});
after(() => harness.close());

const TURN1 =
  'Add a greeting. [[write:src/hello.txt:Hello from Gemini]] [[shell:echo ran > shell-ran.txt]] [[say:Wrote src/hello.txt and ran the shell.]]';
const TURN2 = 'Second turn. [[write:src/second.txt:two]] [[say:Added src/second.txt.]]';

describe('GeminiAgent with the real Gemini CLI', { concurrency: false }, () => {
  let checkoutDir: string;
  let first: Turn;

  it('runs a scripted edit: the file is written, the shell ran, summary, session and usage come back', async () => {
    checkoutDir = await harness.checkout({
      'AGENTS.md': 'AGENTS-MARKER: indent with tabs.\n',
      'GEMINI.md': 'GEMINI-MARKER: keep lines short.\n',
      // Hostile repository content: Gemini CLI would load this into its own environment.
      '.env': 'GEMINI_CLI_CUSTOM_HEADERS=x-from-repo-env: yes\n',
      'src/.keep': '',
    });
    first = await harness.runTurn(cli.agent, { prompt: TURN1 }, { checkoutDir });
    const { result, requests } = first;
    assert.equal(result.conclusion, 'success', result.error);
    assert.equal(result.exitCode, 0);
    assert.equal(await readFile(join(checkoutDir, 'src/hello.txt'), 'utf8'), 'Hello from Gemini');
    assert.equal(await readFile(join(checkoutDir, 'shell-ran.txt'), 'utf8'), 'ran\n');
    assertReported(first, {
      summary: 'Wrote src/hello.txt and ran the shell.',
      tools: [
        { type: 'tool', name: 'write_file', detail: 'src/hello.txt' },
        { type: 'tool', name: 'run_shell_command', detail: 'echo ran > shell-ran.txt' },
      ],
      cost: false,
    });
    assert.match(result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(requests.length, 3, 'write, shell, answer');
    assert.ok(
      requests.every((r) => r.headers['x-from-repo-env'] === undefined),
      "the checkout's .env was ignored",
    );
    assert.ok(requests.every((r) => r.exchange.model === DEFAULT_GEMINI_MODEL));
    harness.fake.assertNoViolations();
    assert.deepEqual(harness.egress, [], 'nothing but the model was contacted');
  });

  it('read GEMINI.md and AGENTS.md from the checkout', () => {
    assertInstructionsReached(first, [
      'GEMINI-MARKER: keep lines short.',
      'AGENTS-MARKER: indent with tabs.',
    ]);
  });

  it('got the prompt on stdin, the model and headless flags on argv, the proxy and the gateway in its environment', () => {
    const exec = cliExec(cli, first);
    assert.deepEqual(exec.argv, [
      'gemini',
      '-p',
      '',
      `--model=${DEFAULT_GEMINI_MODEL}`,
      '--output-format',
      'stream-json',
      '--yolo',
    ]);
    assert.equal(exec.stdin, TURN1);
    assert.equal(exec.env.GOOGLE_GEMINI_BASE_URL, harness.fake.url);
    assert.equal(exec.env.GEMINI_CLI_TRUST_WORKSPACE, 'true');
    assert.equal(exec.env.HTTPS_PROXY, harness.proxyUrl);
    assert.ok(exec.env.NO_PROXY?.split(',').includes('127.0.0.1'));
  });

  it('uses the turn token only as the API key: never in argv, files or output', async () => {
    await assertTokenOnlyInEnvironment(cli, first);
  });

  it('keeps its configuration in the task home, never in the checkout', async () => {
    const settings = JSON.parse(await readFile(join(harness.homeDir, '.gemini/settings.json'), 'utf8'));
    assert.equal(settings.security.auth.selectedType, 'gemini-api-key');
    assert.deepEqual(settings.context.fileName, ['GEMINI.md', 'AGENTS.md']);
    assert.equal(settings.privacy.usageStatisticsEnabled, false);
    assert.deepEqual(gitStatus(checkoutDir), ['?? shell-ran.txt', '?? src/hello.txt']);
    assert.ok((await filesContaining(join(harness.homeDir, '.gemini'), 'Hello from Gemini')).length > 0);
  });

  it('resumes the session in the same checkout with --resume: the model sees turn 1', async () => {
    const turn = await harness.runTurn(
      cli.agent,
      { prompt: TURN2, sessionId: first.result.sessionId! },
      { checkoutDir },
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.deepEqual(cliExec(cli, turn).argv.slice(-2), ['--resume', first.result.sessionId]);
    assert.equal(turn.result.sessionId, first.result.sessionId);
    assert.equal(turn.result.summary, 'Added src/second.txt.');
    assert.equal(await readFile(join(checkoutDir, 'src/second.txt'), 'utf8'), 'two');
    const history = turn.requests[0]!;
    assertReplayed(history, {
      prompts: [TURN1],
      toolCalls: ['write_file', 'run_shell_command'],
      prompt: TURN2,
    });
    // The session log's doubled tool results were repaired before the resume (gemini-session.ts).
    assert.equal(
      history.exchange.messages.filter((m) => m.role === 'tool').length,
      2,
      'one function response per call',
    );
    harness.fake.assertNoViolations();
  });

  it('continues from a moved checkout by importing the session (--session-file)', async () => {
    const moved = await harness.nextCheckout(checkoutDir);
    const prompt = 'Third turn. [[shell:echo third > third.txt]] [[say:Ran the third step.]]';
    const turn = await harness.runTurn(
      cli.agent,
      { prompt, sessionId: first.result.sessionId! },
      { checkoutDir: moved },
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    const argv = cliExec(cli, turn).argv;
    assert.equal(argv.at(-2), '--session-file');
    assert.match(
      argv.at(-1)!,
      new RegExp(`^${harness.homeDir}/\\.gemini/tmp/[^/]+/chats/session-.*\\.jsonl$`),
    );
    assert.notEqual(turn.result.sessionId, first.result.sessionId, 'an imported session gets a new id');
    assert.equal(await readFile(join(moved, 'third.txt'), 'utf8'), 'third\n');
    assertReplayed(turn.requests[0]!, {
      prompts: [TURN1, TURN2],
      toolCalls: ['write_file', 'run_shell_command', 'write_file'],
      prompt,
    });
    harness.fake.assertNoViolations();
  });

  it('starts a new session when the home no longer has the one to resume', async () => {
    const turn = await lostSessionTurn(cli, '00000000-0000-4000-8000-000000000000');
    assert.ok(!cliExec(cli, turn).argv.some((a) => a === '--resume' || a === '--session-file'));
  });

  it('gives the commands it runs the egress proxy while reaching the model directly', async () => {
    await proxyTurn(cli);
  });

  it('passes a prompt over 200 KiB intact', async () => {
    const turn = await bigPromptTurn(cli);
    // Gemini CLI echoes the prompt as one stdout line; under the runners' 4 MiB cap it arrives whole.
    const echo = turn.stdout.find(
      (line) => line.startsWith('{"type":"message"') && line.includes('"role":"user"'),
    );
    assert.ok(echo && !echo.endsWith(TRUNCATED_MARKER));
    assert.equal(JSON.parse(echo).content, cliExec(cli, turn).stdin);
  });

  it('fails with a reason the user can act on when the model API refuses the credentials', async () => {
    const turn = await refusedKeyTurn(cli, {
      status: 401,
      body: {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      },
    });
    assert.match(
      turn.result.error!,
      /^Gemini CLI failed: the model API answered 401 UNAUTHENTICATED: Request had invalid authentication credentials\./,
    );
  });

  it('returns cancelled as soon as the turn is aborted, with the CLI and its tool command stopped', async () => {
    await cancelledTurn(cli);
  });

  it('refuses to start without the model gateway or with a model name that could pass as a flag', async () => {
    const noGateway = await cli.agent.run(
      { taskId: 't', prompt: 'x' },
      {
        session: {} as never,
        signal: new AbortController().signal,
        timeoutMs: 1000,
        onLine() {},
        onEvent() {},
      },
    );
    assert.deepEqual(noGateway, {
      conclusion: 'failure',
      error:
        'Gemini CLI needs model access, but the turn has no model gateway grant: the model gateway is not configured on this Forge.',
    });
    const turn = await harness.runTurn(cli.agent, { prompt: 'x', model: '--yolo' });
    assert.equal(turn.result.conclusion, 'failure');
    assert.match(turn.result.error!, /not a valid model name/);
    assert.equal(turn.execs.length, 0);
    assert.throws(() => new GeminiAgent({ model: '-x' }), TypeError);
  });
});

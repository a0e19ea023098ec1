/**
 * GeminiAgent with the real Gemini CLI (pinned, from .cache/agent-clis) in the LocalSandbox, against
 * the strict fake Gemini API: a scripted edit, resuming in the same and in a moved checkout, a prompt
 * over 200 KiB, a refused model call. No fake-model violation and no connection besides the model.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_GEMINI_MODEL, GeminiAgent } from '../../src/agents/gemini.js';
import { TRUNCATED_MARKER } from '../../src/sandbox/lines.js';
import { geminiProtocol } from '../kit/fake-model/protocols/gemini.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';
import { type AgentHarness, startAgentHarness, type Turn } from '../kit/real-agent-harness.js';
import { filesUnder, gitStatus, promptOf, waitForFile } from './agent-cli-checks.js';

let harness: AgentHarness;
const agent = new GeminiAgent();

before(async () => {
  harness = await startAgentHarness({ cli: 'gemini', protocols: [geminiProtocol], label: 'gemini-it' });
});
after(() => harness.close());

/** The fake model's requests made during `run`. */
async function requestsOf<T>(run: () => Promise<T>): Promise<{ value: T; requests: RecordedRequest[] }> {
  const from = harness.fake.requests.length;
  const value = await run();
  return { value, requests: harness.fake.requests.slice(from) };
}

function geminiExec(turn: Turn) {
  const execs = turn.execs.filter((e) => e.argv[0] === 'gemini');
  assert.equal(execs.length, 1);
  return execs[0]!;
}

const TURN1 =
  'Add a greeting. [[write:src/hello.txt:Hello from Gemini]] [[shell:echo ran > shell-ran.txt]] [[say:Wrote src/hello.txt and ran the shell.]]';

describe('GeminiAgent with the real Gemini CLI', { concurrency: false }, () => {
  let checkoutDir: string;
  let first: Turn;
  let firstRequests: RecordedRequest[];

  it('runs a scripted edit: the file is written, the shell ran, summary, session and usage come back', async () => {
    checkoutDir = await harness.checkout({
      'AGENTS.md': 'AGENTS-MARKER: indent with tabs.\n',
      'GEMINI.md': 'GEMINI-MARKER: keep lines short.\n',
      // Hostile repository content: Gemini CLI would load this into its own environment.
      '.env': 'GEMINI_CLI_CUSTOM_HEADERS=x-from-repo-env: yes\n',
      'src/.keep': '',
    });
    const { value, requests } = await requestsOf(() =>
      harness.runTurn(agent, { prompt: TURN1 }, { checkoutDir }),
    );
    first = value;
    firstRequests = requests;
    const { result, events } = first;
    assert.equal(result.conclusion, 'success', result.error);
    assert.equal(result.exitCode, 0);
    assert.equal(await readFile(join(checkoutDir, 'src/hello.txt'), 'utf8'), 'Hello from Gemini');
    assert.equal(await readFile(join(checkoutDir, 'shell-ran.txt'), 'utf8'), 'ran\n');
    assert.equal(result.summary, 'Wrote src/hello.txt and ran the shell.');
    assert.match(result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(result.usage, {
      inputTokens: requests.reduce((n, r) => n + r.usage.inputTokens, 0),
      outputTokens: requests.reduce((n, r) => n + r.usage.outputTokens, 0),
    });
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [
        { type: 'tool', name: 'write_file', detail: 'src/hello.txt' },
        { type: 'tool', name: 'run_shell_command', detail: 'echo ran > shell-ran.txt' },
      ],
    );
    assert.deepEqual(events.at(-1), { type: 'summary', text: result.summary });
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
    const context = firstRequests[0]!.exchange.messages.map((m) => m.text).join('\n');
    assert.match(context, /GEMINI-MARKER: keep lines short\./);
    assert.match(context, /AGENTS-MARKER: indent with tabs\./);
  });

  it('got the prompt on stdin, the model and headless flags on argv, the token only in the environment', async () => {
    const exec = geminiExec(first);
    assert.deepEqual(exec.argv, [
      'gemini',
      '-p',
      '',
      '-m',
      DEFAULT_GEMINI_MODEL,
      '--output-format',
      'stream-json',
      '--yolo',
    ]);
    assert.equal(exec.stdin, TURN1);
    assert.equal(exec.env.GEMINI_API_KEY, first.token);
    assert.equal(exec.env.GOOGLE_GEMINI_BASE_URL, harness.fake.url);
    assert.equal(exec.env.GEMINI_CLI_TRUST_WORKSPACE, 'true');
    assert.ok(exec.env.HTTPS_PROXY && exec.env.NO_PROXY?.includes('127.0.0.1'));
    for (const e of first.execs) assert.ok(!e.argv.join(' ').includes(first.token), 'token on argv');
    assert.ok(
      !JSON.stringify(first.sessionEnv).includes(first.token),
      'token in the sandbox-wide environment',
    );
    assert.ok(firstRequests.every((r) => r.headers['x-goog-api-key'] === first.token));
  });

  it('keeps its configuration in the task home, never in the checkout, and writes no token to disk', async () => {
    const settings = JSON.parse(await readFile(join(harness.homeDir, '.gemini/settings.json'), 'utf8'));
    assert.equal(settings.security.auth.selectedType, 'gemini-api-key');
    assert.deepEqual(settings.context.fileName, ['GEMINI.md', 'AGENTS.md']);
    assert.equal(settings.privacy.usageStatisticsEnabled, false);
    assert.deepEqual(gitStatus(checkoutDir), ['?? shell-ran.txt', '?? src/hello.txt']);
    for (const file of [...(await filesUnder(harness.homeDir)), ...(await filesUnder(checkoutDir))]) {
      assert.ok(!(await readFile(file, 'utf8')).includes(first.token), `token written to ${file}`);
    }
  });

  it('resumes the session in the same checkout with --resume: the model sees turn 1', async () => {
    const prompt = 'Second turn. [[write:src/second.txt:two]] [[say:Added src/second.txt.]]';
    const { value: turn, requests } = await requestsOf(() =>
      harness.runTurn(agent, { prompt, sessionId: first.result.sessionId! }, { checkoutDir }),
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.deepEqual(geminiExec(turn).argv.slice(-2), ['--resume', first.result.sessionId]);
    assert.equal(turn.result.sessionId, first.result.sessionId);
    assert.equal(turn.result.summary, 'Added src/second.txt.');
    assert.equal(await readFile(join(checkoutDir, 'src/second.txt'), 'utf8'), 'two');
    const history = requests[0]!.exchange.messages;
    const users = history.filter((m) => m.role === 'user').map((m) => m.text);
    assert.ok(
      users.some((t) => t.includes(TURN1)),
      'turn 1 prompt replayed',
    );
    assert.ok(users.at(-1)?.includes(prompt));
    assert.deepEqual(
      history.filter((m) => m.toolCall).map((m) => m.toolCall!.name),
      ['write_file', 'run_shell_command'],
    );
    assert.equal(history.filter((m) => m.role === 'tool').length, 2, 'one function response per call');
    harness.fake.assertNoViolations();
  });

  it('continues from a moved checkout by importing the session (--session-file)', async () => {
    const moved = await harness.cloneCheckout(checkoutDir);
    const prompt = 'Third turn. [[shell:echo third > third.txt]] [[say:Ran the third step.]]';
    const { value: turn, requests } = await requestsOf(() =>
      harness.runTurn(agent, { prompt, sessionId: first.result.sessionId! }, { checkoutDir: moved }),
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    const argv = geminiExec(turn).argv;
    assert.equal(argv.at(-2), '--session-file');
    assert.match(
      argv.at(-1)!,
      new RegExp(`^${harness.homeDir}/\\.gemini/tmp/[^/]+/chats/session-.*\\.jsonl$`),
    );
    assert.notEqual(turn.result.sessionId, first.result.sessionId, 'an imported session gets a new id');
    assert.equal(await readFile(join(moved, 'third.txt'), 'utf8'), 'third\n');
    const users = requests[0]!.exchange.messages.filter((m) => m.role === 'user').map((m) => m.text);
    assert.ok(users.some((t) => t.includes(TURN1)) && users.some((t) => t.includes('Second turn.')));
    harness.fake.assertNoViolations();
  });

  it('passes a prompt over 200 KiB intact', async () => {
    const filler = Array.from(
      { length: 4000 },
      (_, i) => `line ${i}: ${'lorem ipsum dolor sit amet '.repeat(2)}`,
    ).join('\n');
    const prompt = `Big task [[say:Read it all.]]\n${filler}\nEND-OF-PROMPT`;
    assert.ok(Buffer.byteLength(prompt) > 200 * 1024);
    const { value: turn, requests } = await requestsOf(() => harness.runTurn(agent, { prompt }));
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.equal(turn.result.summary, 'Read it all.');
    assert.equal(promptOf(requests[0]!, prompt), prompt);
    // Gemini CLI echoes the prompt as one stdout line; LineSplitter cuts it at 64 KiB, harmlessly.
    assert.ok(
      turn.stdout.some((line) => line.startsWith('{"type":"message"') && line.endsWith(TRUNCATED_MARKER)),
    );
    assert.ok(geminiExec(turn).argv.join(' ').length < 200);
    harness.fake.assertNoViolations();
  });

  it('fails with a reason the user can act on when the model API refuses the credentials', async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              code: 401,
              message: 'Request had invalid authentication credentials.',
              status: 'UNAUTHENTICATED',
            },
          }),
        ),
      );
    });
    await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      const turn = await harness.runTurn(agent, { prompt: TURN1 }, { model: { geminiBaseUrl: url } });
      assert.equal(turn.result.conclusion, 'failure');
      assert.match(
        turn.result.error!,
        /^Gemini CLI failed: the model API answered 401 UNAUTHENTICATED: Request had invalid authentication credentials\./,
      );
      assert.match(turn.result.error!, /check GEMINI_API_KEY, the key Forge's model gateway uses/);
    } finally {
      refusing.close();
    }
  });

  it('returns cancelled as soon as the turn is aborted, with the CLI killed', async () => {
    const controller = new AbortController();
    const turnRun = harness.runTurn(
      agent,
      { prompt: 'Wait. [[shell:echo started > started.txt; sleep 30; echo late > late.txt]]' },
      { signal: controller.signal },
    );
    const checkout = await waitForFile(harness, 'started.txt');
    controller.abort();
    const turn = await turnRun;
    assert.equal(turn.result.conclusion, 'cancelled');
    // The turn did not wait for the tool's command. (That command runs in a process group of its
    // own, which the local sandbox does not reach; the harness removes such strays at the end.)
    await assert.rejects(readFile(join(checkout, 'late.txt')));
  });

  it('refuses to start without the model gateway or with a model name that could pass as a flag', async () => {
    const noGateway = await agent.run(
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
      error: 'The gemini agent needs the model gateway, which is not configured on this Forge.',
    });
    const turn = await harness.runTurn(agent, { prompt: 'x', model: '--yolo' });
    assert.equal(turn.result.conclusion, 'failure');
    assert.match(turn.result.error!, /not a valid model name/);
    assert.equal(turn.execs.length, 0);
    assert.throws(() => new GeminiAgent({ model: '-x' }), TypeError);
  });
});

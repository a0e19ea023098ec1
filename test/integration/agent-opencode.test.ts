/**
 * OpenCodeAgent with the real OpenCode (pinned, from .cache/agent-clis) in the LocalSandbox, against
 * the strict fake Chat Completions API: a scripted edit (apply_patch for the default gpt model, write
 * for others), resuming in the same and in a moved checkout, a prompt over 200 KiB, a refused model
 * call. No fake-model violation and no connection besides the model.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_OPENCODE_MODEL, OpenCodeAgent } from '../../src/agents/opencode.js';
import { openaiChatProtocol } from '../kit/fake-model/protocols/openai-chat.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';
import { type AgentHarness, startAgentHarness, type Turn } from '../kit/real-agent-harness.js';
import { filesUnder, gitStatus, promptOf, waitForFile } from './agent-cli-checks.js';

let harness: AgentHarness;
const agent = new OpenCodeAgent();

before(async () => {
  harness = await startAgentHarness({
    cli: 'opencode',
    protocols: [openaiChatProtocol],
    label: 'opencode-it',
  });
});
after(() => harness.close());

async function requestsOf<T>(run: () => Promise<T>): Promise<{ value: T; requests: RecordedRequest[] }> {
  const from = harness.fake.requests.length;
  const value = await run();
  return { value, requests: harness.fake.requests.slice(from) };
}

function runExec(turn: Turn) {
  const execs = turn.execs.filter((e) => e.argv[0] === 'opencode' && e.argv[1] === 'run');
  assert.equal(execs.length, 1);
  return execs[0]!;
}

const TURN1 =
  'Add a greeting. [[write:src/hello.txt:Hello from OpenCode]] [[shell:echo ran > shell-ran.txt]] [[say:Wrote src/hello.txt and ran the shell.]]';

describe('OpenCodeAgent with the real OpenCode', { concurrency: false }, () => {
  let checkoutDir: string;
  let first: Turn;
  let firstRequests: RecordedRequest[];

  it('runs a scripted edit: the file is written, the shell ran, summary, session and usage come back', async () => {
    checkoutDir = await harness.checkout({
      'AGENTS.md': 'AGENTS-MARKER: indent with tabs.\n',
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
    // apply_patch writes lines: an added file ends with a newline.
    assert.equal(await readFile(join(checkoutDir, 'src/hello.txt'), 'utf8'), 'Hello from OpenCode\n');
    assert.equal(await readFile(join(checkoutDir, 'shell-ran.txt'), 'utf8'), 'ran\n');
    assert.equal(result.summary, 'Wrote src/hello.txt and ran the shell.');
    assert.match(result.sessionId ?? '', /^ses_[A-Za-z0-9]+$/);
    assert.deepEqual(result.usage, {
      inputTokens: requests.reduce((n, r) => n + r.usage.inputTokens, 0),
      outputTokens: requests.reduce((n, r) => n + r.usage.outputTokens, 0),
    });
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [
        { type: 'tool', name: 'apply_patch', detail: 'src/hello.txt' },
        { type: 'tool', name: 'bash', detail: 'echo ran > shell-ran.txt' },
      ],
    );
    assert.deepEqual(events.at(-1), { type: 'summary', text: result.summary });
    // The --title spares OpenCode's title request: every request is a step of the agent, with tools.
    assert.equal(requests.length, 3);
    assert.ok(
      requests.every((r) => r.exchange.tools.includes('bash') && r.exchange.model === DEFAULT_OPENCODE_MODEL),
    );
    harness.fake.assertNoViolations();
    assert.deepEqual(harness.egress, [], 'nothing but the model was contacted (no npm, no models.dev)');
  });

  it('read AGENTS.md from the checkout', () => {
    const system = firstRequests[0]!.exchange.messages.filter((m) => m.role === 'system').map((m) => m.text);
    assert.match(system.join('\n'), /AGENTS-MARKER: indent with tabs\./);
  });

  it('got the prompt on stdin, forge/<model> on argv, the token only in the environment', async () => {
    const exec = runExec(first);
    assert.deepEqual(exec.argv, [
      'opencode',
      'run',
      '--format',
      'json',
      '--model',
      `forge/${DEFAULT_OPENCODE_MODEL}`,
      '--auto',
      '--title',
      'Forge task task-1',
    ]);
    assert.equal(exec.stdin, TURN1);
    assert.equal(exec.env.FORGE_MODEL_TOKEN, first.token);
    assert.equal(exec.env.OPENCODE_DISABLE_MODELS_FETCH, '1');
    assert.ok(exec.env.HTTPS_PROXY && exec.env.NO_PROXY?.includes('127.0.0.1'));
    for (const e of first.execs) assert.ok(!e.argv.join(' ').includes(first.token), 'token on argv');
    assert.ok(!JSON.stringify(first.sessionEnv).includes(first.token));
    assert.ok(firstRequests.every((r) => r.headers.authorization === `Bearer ${first.token}`));
  });

  it('keeps its configuration in the task home, never in the checkout, and writes no token to disk', async () => {
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
    for (const file of [...(await filesUnder(harness.homeDir)), ...(await filesUnder(checkoutDir))]) {
      assert.ok(!(await readFile(file)).includes(first.token), `token written to ${file}`);
    }
  });

  it('resumes the session in the same checkout with --session: the model sees turn 1', async () => {
    const prompt = 'Second turn. [[write:src/second.txt:two]] [[say:Added src/second.txt.]]';
    const { value: turn, requests } = await requestsOf(() =>
      harness.runTurn(agent, { prompt, sessionId: first.result.sessionId! }, { checkoutDir }),
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.equal(turn.execs.length, 1, 'same directory: no export/import');
    assert.deepEqual(runExec(turn).argv.slice(-2), ['--session', first.result.sessionId]);
    assert.equal(turn.result.sessionId, first.result.sessionId);
    assert.equal(turn.result.summary, 'Added src/second.txt.');
    assert.equal(await readFile(join(checkoutDir, 'src/second.txt'), 'utf8'), 'two\n');
    const history = requests[0]!.exchange.messages;
    assert.ok(
      history.some((m) => m.role === 'user' && m.text.includes(TURN1)),
      'turn 1 prompt replayed',
    );
    assert.ok(history.at(-1)?.text.includes(prompt));
    assert.deepEqual(
      history.filter((m) => m.toolCall).map((m) => m.toolCall!.name),
      ['apply_patch', 'bash'],
    );
    harness.fake.assertNoViolations();
  });

  it('moves the session to a moved checkout (export, rewrite, import) and resumes it there', async () => {
    const moved = await harness.cloneCheckout(checkoutDir);
    const prompt = 'Third turn. [[shell:echo third > third.txt]] [[say:Ran the third step.]]';
    const { value: turn, requests } = await requestsOf(() =>
      harness.runTurn(agent, { prompt, sessionId: first.result.sessionId! }, { checkoutDir: moved }),
    );
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.deepEqual(
      turn.execs.map((e) => e.argv.slice(0, 5)),
      [
        ['sh', '-c', 'exec "$0" export "$1" > "$2"', 'opencode', first.result.sessionId],
        ['opencode', 'import', turn.execs[1]!.argv[2]],
        ['opencode', 'run', '--format', 'json', '--model'],
      ],
    );
    assert.deepEqual(runExec(turn).argv.slice(-2), ['--session', first.result.sessionId]);
    assert.equal(turn.result.sessionId, first.result.sessionId);
    assert.equal(await readFile(join(moved, 'third.txt'), 'utf8'), 'third\n');
    assert.deepEqual(
      gitStatus(checkoutDir),
      ['?? shell-ran.txt', '?? src/hello.txt', '?? src/second.txt'],
      'the old checkout was left alone',
    );
    const users = requests[0]!.exchange.messages.filter((m) => m.role === 'user').map((m) => m.text);
    assert.ok(users.some((t) => t.includes(TURN1)) && users.some((t) => t.includes('Second turn.')));
    harness.fake.assertNoViolations();
  });

  it("uses OpenCode's write tool with a model that is not a gpt, and passes a prompt over 200 KiB intact", async () => {
    const filler = Array.from(
      { length: 4000 },
      (_, i) => `line ${i}: ${'lorem ipsum dolor sit amet '.repeat(2)}`,
    ).join('\n');
    const prompt = `Big task [[write:big.txt:done]] [[say:Read it all.]]\n${filler}\nEND-OF-PROMPT`;
    assert.ok(Buffer.byteLength(prompt) > 200 * 1024);
    const qwen = new OpenCodeAgent({ model: 'qwen3-coder' });
    const { value: turn, requests } = await requestsOf(() => harness.runTurn(qwen, { prompt }));
    assert.equal(turn.result.conclusion, 'success', turn.result.error);
    assert.equal(turn.result.summary, 'Read it all.');
    assert.equal(await readFile(join(turn.checkoutDir, 'big.txt'), 'utf8'), 'done');
    assert.deepEqual(
      turn.events.filter((e) => e.type === 'tool'),
      [{ type: 'tool', name: 'write', detail: 'big.txt' }],
    );
    assert.equal(promptOf(requests[0]!, prompt), prompt);
    assert.ok(runExec(turn).argv.join(' ').length < 200);
    assert.ok(requests.every((r) => r.exchange.model === 'qwen3-coder'));
    harness.fake.assertNoViolations();
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

  it('fails with a reason the user can act on when the model API refuses the credentials', async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              message: 'Incorrect API key provided.',
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          }),
        ),
      );
    });
    await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      const turn = await harness.runTurn(agent, { prompt: TURN1 }, { model: { openaiBaseUrl: `${url}/v1` } });
      assert.equal(turn.result.conclusion, 'failure');
      assert.match(turn.result.error!, /^OpenCode failed: Incorrect API key provided\./);
      assert.match(
        turn.result.error!,
        /HTTP 401\): check OPENAI_API_KEY, the key Forge's model gateway uses/,
      );
    } finally {
      refusing.close();
    }
  });
});

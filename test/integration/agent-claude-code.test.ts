/**
 * The real Claude Code CLI (pinned, from npm) run by ClaudeCodeAgent in the LocalSandbox against
 * the fake Anthropic model: a scripted edit and shell command on a temporary checkout, resume on a
 * later turn (in a new checkout path, as Forge gives each turn), a prompt far beyond the argv/env
 * limit, errors the user can act on, and where the per-turn token goes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClaudeCodeAgent, DEFAULT_CLAUDE_CODE_MODEL } from '../../src/agents/claude-code.js';
import {
  changedFiles,
  filesContaining,
  type Harness,
  startHarness,
  startRefusingProxy,
  type TurnRun,
} from '../kit/cli-agent-harness.js';
import { anthropicProtocol } from '../kit/fake-model/protocols/anthropic.js';
import { type FakeModel, startFakeModel } from '../kit/fake-model/server.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';

const INSTRUCTIONS_MARKER = 'claude-md-marker-7f3a';
let fake: FakeModel;
let harness: Harness;
let first: TurnRun;
let firstRequests: RecordedRequest[];

const agent = new ClaudeCodeAgent();
const userText = (r: RecordedRequest) =>
  r.exchange.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.text)
    .join('\n');

before(async () => {
  fake = await startFakeModel({ protocols: [anthropicProtocol] });
  harness = await startHarness({ cli: 'claude', modelUrl: fake.url, label: 'claude-code-it' });
  const checkoutDir = await harness.checkout({
    'CLAUDE.md': `# Project rules\nAlways mention ${INSTRUCTIONS_MARKER}.\n`,
  });
  const before = fake.requests.length;
  first = await harness.runTurn(
    agent,
    {
      prompt:
        'Add the notes and record a run. [[write:notes/hello.txt:hello from claude]] ' +
        '[[shell:echo "ran in $(basename $PWD)" > shell-ran.txt]] [[say:I added notes/hello.txt and ran the script.]]',
    },
    { checkoutDir },
  );
  firstRequests = fake.requests.slice(before);
});

after(async () => {
  await fake?.close();
  await harness?.close();
});

describe('ClaudeCodeAgent with the real Claude Code CLI', () => {
  it('writes the file and runs the shell command of a scripted turn', () => {
    assert.equal(first.result.conclusion, 'success', first.result.error);
    assert.equal(first.result.exitCode, 0);
    assert.equal(readFileSync(join(first.checkoutDir, 'notes/hello.txt'), 'utf8'), 'hello from claude');
    assert.match(readFileSync(join(first.checkoutDir, 'shell-ran.txt'), 'utf8'), /^ran in checkout-\d+\n$/);
    fake.assertNoViolations();
  });

  it('returns the summary, the session id and the usage the model served', () => {
    const { result, events } = first;
    assert.equal(result.summary, 'I added notes/hello.txt and ran the script.');
    assert.match(result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    // Claude Code names its session in every request.
    assert.ok(firstRequests.every((r) => r.headers['x-claude-code-session-id'] === result.sessionId));
    const served = firstRequests.reduce(
      (sum, r) => ({ input: sum.input + r.usage.inputTokens, output: sum.output + r.usage.outputTokens }),
      { input: 0, output: 0 },
    );
    assert.equal(result.usage?.inputTokens, served.input);
    assert.equal(result.usage?.outputTokens, served.output);
    assert.ok((result.usage?.costUsd ?? 0) > 0);
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [
        { type: 'tool', name: 'Write', detail: 'notes/hello.txt' },
        { type: 'tool', name: 'Bash', detail: 'echo "ran in $(basename $PWD)" > shell-ran.txt' },
      ],
    );
    assert.deepEqual(
      events.find((e) => e.type === 'session'),
      { type: 'session', sessionId: result.sessionId },
    );
    assert.deepEqual(events.at(-1), { type: 'summary', text: result.summary });
    assert.ok(events.some((e) => e.type === 'message' && e.text === result.summary));
  });

  it('is invoked with the prompt on stdin, the model flag and unattended permissions', () => {
    assert.equal(first.execs.length, 1);
    const [exec] = first.execs;
    assert.ok(exec);
    assert.deepEqual(exec.argv, [
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      `--model=${DEFAULT_CLAUDE_CODE_MODEL}`,
      '--dangerously-skip-permissions',
    ]);
    assert.match(exec.stdin ?? '', /\[\[write:notes\/hello\.txt:/);
    assert.equal(exec.env.DISABLE_TELEMETRY, '1');
    assert.equal(exec.env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, '1');
    assert.equal(exec.env.DISABLE_AUTOUPDATER, '1');
    assert.equal(exec.env.ANTHROPIC_BASE_URL, fake.url);
    // The alias resolved by the CLI is what the model saw.
    assert.ok(firstRequests.every((r) => /^claude-sonnet-/.test(r.exchange.model)));
  });

  it('reads the repository CLAUDE.md (its content reaches the model)', () => {
    assert.ok(firstRequests.length >= 3);
    for (const request of firstRequests) assert.ok(userText(request).includes(INSTRUCTIONS_MARKER));
  });

  it('uses the turn token only as the API key: never in argv, files or output', async () => {
    const { token, execs, lines, checkoutDir } = first;
    const [exec] = execs;
    assert.equal(exec?.env.ANTHROPIC_API_KEY, token);
    assert.ok(!exec?.argv.join(' ').includes(token));
    assert.ok(!exec?.stdin?.includes(token));
    assert.ok(firstRequests.every((r) => r.headers['x-api-key'] === token));
    assert.ok(!lines.some(([, line]) => line.includes(token)));
    assert.deepEqual(await filesContaining(harness.homeDir, token), []);
    assert.deepEqual(await filesContaining(checkoutDir, token), []);
  });

  it('keeps its configuration and sessions in the home, not in the checkout', async () => {
    assert.deepEqual(await changedFiles(first.checkoutDir), ['notes/hello.txt', 'shell-ran.txt']);
    assert.ok(existsSync(join(harness.homeDir, '.claude.json')));
    const sessions = await filesContaining(join(harness.homeDir, '.claude', 'projects'), 'hello from claude');
    assert.ok(
      sessions.some((p) => p.endsWith(`${first.result.sessionId}.jsonl`)),
      sessions.join(', '),
    );
  });

  it('resumes the session on a later turn, in a new checkout path', async () => {
    const checkoutDir = await harness.nextCheckout(first.checkoutDir);
    const before = fake.requests.length;
    const second = await harness.runTurn(
      agent,
      {
        prompt: 'Second turn. [[shell:echo two > second.txt]] [[say:Second turn done.]]',
        sessionId: first.result.sessionId,
      },
      { checkoutDir },
    );
    assert.equal(second.result.conclusion, 'success', second.result.error);
    assert.equal(second.execs.length, 1);
    assert.ok(second.execs[0]?.argv.includes(`--resume=${first.result.sessionId}`));
    assert.equal(second.result.sessionId, first.result.sessionId);
    assert.equal(second.result.summary, 'Second turn done.');
    assert.equal(readFileSync(join(checkoutDir, 'second.txt'), 'utf8'), 'two\n');
    const requests = fake.requests.slice(before);
    assert.ok(requests.length >= 2);
    const history = requests[0]?.exchange.messages ?? [];
    // Turn 1's prompt, tool calls and answer, then turn 2's prompt.
    assert.ok(history.some((m) => m.role === 'user' && m.text.includes('[[write:notes/hello.txt:')));
    assert.ok(history.some((m) => m.toolCall?.name === 'Write'));
    assert.ok(
      history.some((m) => m.role === 'assistant' && m.text === 'I added notes/hello.txt and ran the script.'),
    );
    assert.ok(history.some((m) => m.role === 'user' && m.text.includes('Second turn.')));
    // Per-run cost, not the session's running total.
    const served = requests.reduce((n, r) => n + r.usage.inputTokens, 0);
    assert.equal(second.result.usage?.inputTokens, served);
    assert.ok((second.result.usage?.costUsd ?? 0) < (first.result.usage?.costUsd ?? 0) * 2);
    fake.assertNoViolations();
  });

  it('starts a new session when the home no longer has the one to resume', async () => {
    const run = await harness.runTurn(agent, {
      prompt: 'Fresh. [[say:Started over.]]',
      sessionId: '00000000-0000-4000-8000-000000000000',
    });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    assert.equal(run.execs.length, 2);
    assert.ok(run.execs[0]?.argv.includes('--resume=00000000-0000-4000-8000-000000000000'));
    assert.ok(!run.execs[1]?.argv.some((a) => a.startsWith('--resume')));
    assert.notEqual(run.result.sessionId, '00000000-0000-4000-8000-000000000000');
    assert.equal(run.result.summary, 'Started over.');
    assert.ok(
      run.lines.some(
        ([stream, line]) => stream === 'stderr' && line.startsWith('forge: Claude Code has no session'),
      ),
    );
  });

  it('reaches the model directly, past the egress proxy the commands it runs are given', async () => {
    const proxy = await startRefusingProxy();
    try {
      const run = await harness.runTurn(
        agent,
        { prompt: 'Proxy. [[shell:env | grep -i _proxy= | sort > proxy.txt]] [[say:Checked.]]' },
        { model: { proxyUrl: proxy.url } },
      );
      assert.equal(run.result.conclusion, 'success', run.result.error);
      assert.deepEqual(
        proxy.requests,
        [],
        'nothing went through the proxy (no model call, no background traffic)',
      );
      const env = readFileSync(join(run.checkoutDir, 'proxy.txt'), 'utf8');
      assert.ok(env.includes(`HTTPS_PROXY=${proxy.url}\n`));
      assert.ok(env.includes(`https_proxy=${proxy.url}\n`));
      assert.match(env, /^NO_PROXY=localhost,127\.0\.0\.1,::1$/m);
    } finally {
      await proxy.close();
    }
  });

  it('passes a prompt over 200 KiB intact on stdin', async () => {
    const filler = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'x'.repeat(48)}`).join('\n');
    const prompt = `Large context follows.\n${filler}\nEnd of context. [[say:Read it all.]]`;
    assert.ok(Buffer.byteLength(prompt) > 200 * 1024);
    const before = fake.requests.length;
    const run = await harness.runTurn(agent, { prompt });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    assert.equal(run.result.summary, 'Read it all.');
    const request = fake.requests[before];
    assert.ok(request && userText(request).includes(prompt), 'the model received the whole prompt');
    fake.assertNoViolations();
  });

  it('explains a model API refusal in words the user can act on', async () => {
    const refusing = await refusingServer();
    try {
      const quick = new ClaudeCodeAgent({ env: { CLAUDE_CODE_MAX_RETRIES: '0' } });
      const run = await harness.runTurn(
        quick,
        { prompt: 'Anything. [[say:never]]' },
        { model: { anthropicBaseUrl: refusing.url } },
      );
      assert.equal(run.result.conclusion, 'failure');
      assert.match(run.result.error ?? '', /^Claude Code failed: /);
      assert.match(run.result.error ?? '', /HTTP 401/);
      assert.match(run.result.error ?? '', /ANTHROPIC_API_KEY/);
      assert.ok(run.result.sessionId, 'the session id is kept even when the turn failed');
      assert.equal(run.result.summary, undefined);
    } finally {
      await refusing.close();
    }
  });
});

/** Answers every request like the Anthropic API does for a bad key. */
async function refusingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          type: 'error',
          error: { type: 'authentication_error', message: 'invalid x-api-key' },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The real Codex CLI (pinned, from npm) run by CodexAgent in the LocalSandbox against the fake
 * OpenAI Responses model: a scripted edit and shell command on a temporary checkout (with Codex's
 * default model, which uses its JavaScript "code mode" tools, and with a model that gets the classic
 * tool list), resume on a later turn in a new checkout path, a prompt far beyond the argv/env limit,
 * errors the user can act on, the config.toml the runner writes, and where the per-turn token goes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CODEX_TOKEN_ENV, CodexAgent, DEFAULT_CODEX_MODEL } from '../../src/agents/codex.js';
import {
  changedFiles,
  filesContaining,
  type Harness,
  startHarness,
  startRefusingProxy,
  type TurnRun,
} from '../kit/cli-agent-harness.js';
import { openaiResponsesProtocol } from '../kit/fake-model/protocols/openai-responses.js';
import { type FakeModel, startFakeModel } from '../kit/fake-model/server.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';

const INSTRUCTIONS_MARKER = 'agents-md-marker-91c2';
let fake: FakeModel;
let harness: Harness;
let first: TurnRun;
let firstRequests: RecordedRequest[];

// --strict-config: Codex refuses config keys it does not know, so a typo in the runner's config fails here.
const agent = new CodexAgent({ extraArgs: ['--strict-config'] });
const userText = (r: RecordedRequest) =>
  r.exchange.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.text)
    .join('\n');
const served = (requests: RecordedRequest[]) =>
  requests.reduce(
    (sum, r) => ({ input: sum.input + r.usage.inputTokens, output: sum.output + r.usage.outputTokens }),
    { input: 0, output: 0 },
  );

before(async () => {
  fake = await startFakeModel({ protocols: [openaiResponsesProtocol] });
  harness = await startHarness({ cli: 'codex', modelUrl: fake.url, label: 'codex-it' });
  const checkoutDir = await harness.checkout({
    'AGENTS.md': `# Agent rules\nAlways mention ${INSTRUCTIONS_MARKER}.\n`,
  });
  const before = fake.requests.length;
  first = await harness.runTurn(
    agent,
    {
      prompt:
        'Add the notes and record a run. [[write:notes/hello.txt:hello from codex]] ' +
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

describe('CodexAgent with the real Codex CLI', () => {
  it('writes the file and runs the shell command of a scripted turn', () => {
    assert.equal(first.result.conclusion, 'success', first.result.error);
    assert.equal(first.result.exitCode, 0);
    // An apply_patch "Add File" ends every line with a newline.
    assert.equal(readFileSync(join(first.checkoutDir, 'notes/hello.txt'), 'utf8'), 'hello from codex\n');
    assert.match(readFileSync(join(first.checkoutDir, 'shell-ran.txt'), 'utf8'), /^ran in checkout-\d+\n$/);
    // The default model gets Codex's code mode: one `exec` tool that calls the real tools.
    assert.ok(firstRequests.every((r) => r.exchange.model === DEFAULT_CODEX_MODEL));
    assert.deepEqual(
      firstRequests.map((r) => (r.reply.kind === 'tool' ? r.reply.name : 'text')),
      ['exec', 'exec', 'text'],
    );
    fake.assertNoViolations();
  });

  it('returns the summary, the session id and the usage the model served', () => {
    const { result, events } = first;
    assert.equal(result.summary, 'I added notes/hello.txt and ran the script.');
    assert.match(result.sessionId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(firstRequests.every((r) => r.headers['session-id'] === result.sessionId));
    const { input, output } = served(firstRequests);
    assert.deepEqual(result.usage, { inputTokens: input, outputTokens: output });
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [
        { type: 'tool', name: 'edit', detail: 'notes/hello.txt' },
        { type: 'tool', name: 'shell', detail: 'echo "ran in $(basename $PWD)" > shell-ran.txt' },
      ],
    );
    assert.deepEqual(
      events.find((e) => e.type === 'session'),
      { type: 'session', sessionId: result.sessionId },
    );
    assert.deepEqual(events.at(-1), { type: 'summary', text: result.summary });
    assert.ok(events.some((e) => e.type === 'message' && e.text === result.summary));
  });

  it('is invoked with the prompt on stdin, the model flag and no approvals', () => {
    assert.equal(first.execs.length, 1);
    const [exec] = first.execs;
    assert.ok(exec);
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
    assert.match(exec.stdin ?? '', /\[\[write:notes\/hello\.txt:/);
    assert.equal(exec.env.CODEX_HOME, join(harness.homeDir, '.codex'));
  });

  it('writes its config.toml into the home: the gateway as the only provider, no secret', () => {
    const config = readFileSync(join(harness.homeDir, '.codex', 'config.toml'), 'utf8');
    assert.match(config, /^model_provider = "forge"$/m);
    assert.match(config, /^\[model_providers\.forge\]$/m);
    assert.ok(config.includes(`base_url = "${fake.url}/v1"`));
    assert.ok(config.includes(`env_key = "${CODEX_TOKEN_ENV}"`));
    assert.match(config, /^wire_api = "responses"$/m);
    assert.ok(!config.includes(first.token));
  });

  it('reads the repository AGENTS.md (its content reaches the model)', () => {
    assert.ok(firstRequests.length >= 3);
    for (const request of firstRequests) assert.ok(userText(request).includes(INSTRUCTIONS_MARKER));
  });

  it('uses the turn token only as the API key: never in argv, files or output', async () => {
    const { token, execs, lines, checkoutDir } = first;
    const [exec] = execs;
    assert.equal(exec?.env[CODEX_TOKEN_ENV], token);
    assert.ok(!exec?.argv.join(' ').includes(token));
    assert.ok(!exec?.stdin?.includes(token));
    assert.ok(firstRequests.every((r) => r.headers.authorization === `Bearer ${token}`));
    assert.ok(!lines.some(([, line]) => line.includes(token)));
    assert.deepEqual(await filesContaining(harness.homeDir, token), []);
    assert.deepEqual(await filesContaining(checkoutDir, token), []);
  });

  it('keeps the token out of the environment of the commands it runs', async () => {
    const run = await harness.runTurn(agent, { prompt: 'Dump. [[shell:env > env.txt]] [[say:Dumped.]]' });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    const env = readFileSync(join(run.checkoutDir, 'env.txt'), 'utf8');
    assert.match(env, /^CODEX_HOME=/m, 'the environment was dumped');
    assert.ok(!env.includes(run.token));
    assert.ok(!env.includes(CODEX_TOKEN_ENV));
  });

  it('keeps its configuration and sessions in the home, not in the checkout', async () => {
    assert.deepEqual(await changedFiles(first.checkoutDir), ['notes/hello.txt', 'shell-ran.txt']);
    const sessions = await filesContaining(join(harness.homeDir, '.codex', 'sessions'), 'hello from codex');
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
    assert.deepEqual(second.execs[0]?.argv.slice(-3), ['resume', first.result.sessionId, '-']);
    assert.equal(second.result.sessionId, first.result.sessionId);
    assert.equal(second.result.summary, 'Second turn done.');
    assert.equal(readFileSync(join(checkoutDir, 'second.txt'), 'utf8'), 'two\n');
    const requests = fake.requests.slice(before);
    assert.ok(requests.length >= 2);
    const history = requests[0]?.exchange.messages ?? [];
    assert.ok(history.some((m) => m.role === 'user' && m.text.includes('[[write:notes/hello.txt:')));
    assert.ok(history.some((m) => m.toolCall?.name === 'exec'));
    assert.ok(
      history.some((m) => m.role === 'assistant' && m.text === 'I added notes/hello.txt and ran the script.'),
    );
    assert.ok(history.some((m) => m.role === 'user' && m.text.includes('Second turn.')));
    const { input } = served(requests);
    assert.equal(second.result.usage?.inputTokens, input);
    fake.assertNoViolations();
  });

  it('uses the model a turn asks for (here one Codex offers its classic tools: apply_patch, exec_command)', async () => {
    const before = fake.requests.length;
    const run = await harness.runTurn(agent, {
      prompt:
        'Classic. [[write:classic.txt:two\nlines]] [[shell:ls classic.txt > listed.txt]] [[say:Classic done.]]',
      model: 'gpt-5.5',
    });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    assert.ok(run.execs[0]?.argv.includes('--model=gpt-5.5'));
    const requests = fake.requests.slice(before);
    assert.ok(requests.every((r) => r.exchange.model === 'gpt-5.5'));
    assert.deepEqual(
      requests.map((r) => (r.reply.kind === 'tool' ? r.reply.name : 'text')),
      ['apply_patch', 'exec_command', 'text'],
    );
    assert.equal(readFileSync(join(run.checkoutDir, 'classic.txt'), 'utf8'), 'two\nlines\n');
    assert.equal(readFileSync(join(run.checkoutDir, 'listed.txt'), 'utf8'), 'classic.txt\n');
    fake.assertNoViolations();
  });

  it('starts a new session when the home no longer has the one to resume', async () => {
    const run = await harness.runTurn(agent, {
      prompt: 'Fresh. [[say:Started over.]]',
      sessionId: '00000000-0000-4000-8000-000000000000',
    });
    assert.equal(run.result.conclusion, 'success', run.result.error);
    assert.equal(run.execs.length, 2);
    assert.ok(run.execs[0]?.argv.includes('resume'));
    assert.ok(!run.execs[1]?.argv.includes('resume'));
    assert.notEqual(run.result.sessionId, '00000000-0000-4000-8000-000000000000');
    assert.equal(run.result.summary, 'Started over.');
    assert.ok(
      run.lines.some(
        ([stream, line]) => stream === 'stderr' && line.startsWith('forge: Codex has no session'),
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
      // Codex retries a refused stream 5 times by default; extra args override its provider config.
      const quick = new CodexAgent({
        extraArgs: [
          '-c',
          'model_providers.forge.stream_max_retries=0',
          '-c',
          'model_providers.forge.request_max_retries=0',
        ],
      });
      const run = await harness.runTurn(
        quick,
        { prompt: 'Anything. [[say:never]]' },
        { model: { openaiBaseUrl: `${refusing.url}/v1` } },
      );
      assert.equal(run.result.conclusion, 'failure');
      assert.match(run.result.error ?? '', /^Codex failed: /);
      assert.match(run.result.error ?? '', /HTTP 401/);
      assert.match(run.result.error ?? '', /OPENAI_API_KEY/);
      assert.equal(run.result.summary, undefined);
    } finally {
      await refusing.close();
    }
  });
});

/** Answers every request like the OpenAI API does for a bad key. */
async function refusingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
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

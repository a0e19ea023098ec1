/**
 * The model gateway as agents use it: real HTTP on loopback, requests shaped like the CLIs' own
 * (Claude Code, Codex, OpenCode, Gemini CLI), a strict fake upstream per provider that checks the
 * key swap, and the recorded provider bodies coming back unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startModelGateway } from '../../src/gateway/server.js';
import type { GrantOptions, GrantUsage, ModelGateway, TurnGrant } from '../../src/gateway/types.js';
import { Redactor } from '../../src/observability/redact.js';
import { type FakeUpstream, sha256, startFakeUpstream } from '../kit/fake-upstream.js';
import { captureLog, type StreamedResponse, send } from '../kit/gateway-client.js';
import { MODEL_STREAMS } from '../kit/model-streams.js';

let upstream: FakeUpstream;
let gateway: ModelGateway;
let redactor: Redactor;
const logs = captureLog();
const tokens: string[] = [];
const bodies: string[] = [];

function grant(options: Partial<GrantOptions> = {}): TurnGrant {
  const g = gateway.grant({ taskId: 'task-1', turn: 1, ...options });
  tokens.push(g.access.token);
  upstream.forbid(g.access.token);
  return g;
}

async function text(res: StreamedResponse): Promise<string> {
  const body = (await res.body).toString('utf8');
  bodies.push(body, JSON.stringify(res.headers));
  return body;
}

const claudeCodeHeaders = (token: string) => ({
  'x-api-key': token,
  'anthropic-version': '2023-06-01',
  'anthropic-beta':
    'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
  'user-agent': 'claude-cli/2.1.330 (external, sdk-cli)',
  'x-app': 'cli',
  accept: 'application/json',
});

const claudeCodeBody = (model = 'claude-sonnet-4-5', stream = true) => ({
  model,
  max_tokens: 32000,
  stream,
  system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Fix the failing date test.' }] }],
  tools: [{ name: 'Edit', description: 'Edit a file', input_schema: { type: 'object', properties: {} } }],
  thinking: { type: 'enabled', budget_tokens: 4000 },
  metadata: { user_id: 'user_forge_session_1' },
});

before(async () => {
  upstream = await startFakeUpstream();
  redactor = new Redactor();
  gateway = await startModelGateway({
    host: '127.0.0.1',
    port: 0,
    upstreams: {
      anthropic: { baseUrl: upstream.baseUrls.anthropic, apiKey: upstream.keys.anthropic },
      openai: { baseUrl: upstream.baseUrls.openai, apiKey: upstream.keys.openai },
      gemini: { baseUrl: upstream.baseUrls.gemini, apiKey: upstream.keys.gemini },
    },
    log: logs.log,
    redactor,
  });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  // Nothing secret ever left the gateway: not in a response, not in a log line.
  const everything = [...bodies, ...logs.lines].join('\n');
  for (const key of Object.values(upstream.keys))
    assert.equal(everything.includes(key), false, 'a real key leaked');
  for (const token of tokens)
    assert.equal(logs.lines.join('\n').includes(token), false, 'a token was logged');
  assert.ok(
    logs.lines.some((l) => l.includes('"msg":"gateway request"')),
    'requests are logged',
  );
  upstream.assertClean();
});

describe('token swap and byte-for-byte streaming', () => {
  test('Claude Code: the real key goes upstream, the bytes come back unchanged and incrementally, usage is measured', async () => {
    const g = grant();
    assert.equal(g.access.anthropicBaseUrl, `${gateway.url}/anthropic`);
    const before = upstream.requests.length;
    const release = upstream.holdNext();
    const res = await send(`${g.access.anthropicBaseUrl}/v1/messages?beta=true`, {
      headers: claudeCodeHeaders(g.access.token),
      body: claudeCodeBody(),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    // The upstream holds everything after its first event until the client has that event.
    const first = await res.first;
    assert.match(first.toString(), /^event: message_start\n/);
    assert.equal(g.usage().inputTokens, 0, 'nothing is measured before the stream ends');
    release();
    const body = await res.body;
    await text(res);
    assert.equal(sha256(body), sha256(MODEL_STREAMS.anthropicSse.body));
    assert.equal(sha256(body), sha256(upstream.sent.at(-1)!));

    const seen = upstream.requests.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.path, '/v1/messages');
    assert.equal(seen[0]!.query.get('beta'), 'true');
    assert.equal(seen[0]!.headers['anthropic-beta'], claudeCodeHeaders('')['anthropic-beta']);
    assert.deepEqual(seen[0]!.body, claudeCodeBody());

    const usage = g.usage();
    assert.equal(usage.requests, 1);
    assert.equal(usage.inputTokens, 20492);
    assert.equal(usage.outputTokens, 287);
    assert.deepEqual(
      usage.byModel.map(({ costUsd, ...m }) => m),
      [
        {
          model: 'claude-sonnet-4-5',
          provider: 'anthropic',
          requests: 1,
          inputTokens: 20492,
          outputTokens: 287,
          cacheReadTokens: 18432,
          cacheWriteTokens: 2048,
        },
      ],
    );
    assert.ok(Math.abs(usage.costUsd! - (12 * 3 + 18432 * 0.3 + 2048 * 6 + 287 * 15) / 1e6) < 1e-12);
    g.revoke();
  });

  test('Anthropic: Bearer auth, a non-streamed message, count_tokens and model lists (not agent steps), the HEAD probe', async () => {
    const updates: GrantUsage[] = [];
    const g = grant({ onUsage: (u) => updates.push(u) });
    const { 'x-api-key': _unused, ...headers } = claudeCodeHeaders(g.access.token);
    const auth = { ...headers, authorization: `Bearer ${g.access.token}` };

    const probe = await send(`${g.access.anthropicBaseUrl}`, { method: 'HEAD' });
    assert.equal(probe.status, 200);
    const single = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
      headers: auth,
      body: claudeCodeBody('claude-haiku-4-5', false),
    });
    assert.equal(single.status, 200);
    assert.equal(await text(single), MODEL_STREAMS.anthropicJson.body.toString());
    const count = await send(`${g.access.anthropicBaseUrl}/v1/messages/count_tokens`, {
      headers: auth,
      body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.deepEqual(await count.json(), { input_tokens: 2095 });
    const models = await send(`${g.access.anthropicBaseUrl}/v1/models`, { headers: auth });
    assert.equal(models.status, 200);
    await text(models);

    const usage = g.usage();
    assert.equal(usage.requests, 1, 'only the message is an agent step');
    assert.equal(usage.inputTokens, 412);
    assert.equal(usage.outputTokens, 9);
    assert.ok(Math.abs(usage.costUsd! - (412 * 1 + 9 * 5) / 1e6) < 1e-12);
    assert.equal(updates.length, 1, 'onUsage after each generation response');
    g.revoke();
  });

  test('Codex (Responses API): Bearer token swapped, stream unchanged, cached and reasoning tokens measured', async () => {
    const g = grant();
    const res = await send(`${g.access.openaiBaseUrl}/responses`, {
      headers: {
        authorization: `Bearer ${g.access.token}`,
        'openai-beta': 'responses=experimental',
        originator: 'codex_exec',
        session_id: '0199a213-81c0-7800-8aa1-bbab2a035a53',
        accept: 'text/event-stream',
      },
      body: {
        model: 'gpt-5.1-codex-max',
        instructions: 'You are Codex.',
        input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Fix the test.' }] }],
        tools: [{ type: 'function', name: 'shell', parameters: { type: 'object', properties: {} } }],
        tool_choice: 'auto',
        parallel_tool_calls: false,
        reasoning: { effort: 'medium', summary: 'auto' },
        store: false,
        stream: true,
        include: ['reasoning.encrypted_content'],
        prompt_cache_key: '0199a213-81c0-7800-8aa1-bbab2a035a53',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(sha256(await res.body), sha256(MODEL_STREAMS.responsesSse.body));
    await text(res);
    assert.equal(upstream.requests.at(-1)!.path, '/responses');
    const [m] = g.usage().byModel;
    assert.deepEqual(
      { model: m!.model, input: m!.inputTokens, cached: m!.cacheReadTokens, output: m!.outputTokens },
      { model: 'gpt-5.1-codex-max', input: 9410, cached: 8192, output: 412 },
    );
    assert.ok(Math.abs(m!.costUsd! - (1218 * 1.25 + 8192 * 0.125 + 412 * 10) / 1e6) < 1e-12);
    g.revoke();
  });

  test('OpenCode (Chat Completions): streamed requests get include_usage so the stream carries usage; plain ones are kept', async () => {
    const g = grant();
    const auth = {
      authorization: `Bearer ${g.access.token}`,
      'user-agent': 'opencode/1.18.33 ai-sdk/openai-compatible',
    };
    const streamed = await send(`${g.access.openaiBaseUrl}/chat/completions`, {
      headers: auth,
      body: { model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'Run the tests.' }] },
    });
    assert.equal(sha256(await streamed.body), sha256(MODEL_STREAMS.chatSse.body));
    await text(streamed);
    const sentBody = upstream.requests.at(-1)!.body as Record<string, unknown>;
    assert.deepEqual(sentBody.stream_options, { include_usage: true });
    assert.deepEqual(sentBody.messages, [{ role: 'user', content: 'Run the tests.' }]);

    const plain = await send(`${g.access.openaiBaseUrl}/chat/completions`, {
      headers: auth,
      body: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Done?' }] },
    });
    assert.equal(await text(plain), MODEL_STREAMS.chatJson.body.toString());
    assert.equal((upstream.requests.at(-1)!.body as Record<string, unknown>).stream_options, undefined);

    const usage = g.usage();
    assert.equal(usage.requests, 2);
    assert.equal(usage.inputTokens, 1536 + 220);
    assert.equal(usage.outputTokens, 27 + 3);
    assert.equal(usage.byModel[0]!.cacheReadTokens, 1024);
    g.revoke();
  });

  test('Gemini CLI: x-goog-api-key or ?key= both work, ?key= never reaches the upstream, thoughts count as output', async () => {
    const g = grant();
    assert.equal(g.access.geminiBaseUrl, `${gateway.url}/gemini`);
    const body = {
      contents: [{ role: 'user', parts: [{ text: 'Fix the failing test.' }] }],
      systemInstruction: { role: 'user', parts: [{ text: 'You are Gemini CLI.' }] },
      generationConfig: { temperature: 0, thinkingConfig: { includeThoughts: true } },
    };
    const streamed = await send(
      `${g.access.geminiBaseUrl}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse`,
      { headers: { 'x-goog-api-key': g.access.token, 'user-agent': 'GeminiCLI/0.61.0 (linux; x64)' }, body },
    );
    assert.equal(sha256(await streamed.body), sha256(MODEL_STREAMS.geminiSse.body));
    await text(streamed);
    const byQuery = await send(
      `${g.access.geminiBaseUrl}/v1beta/models/gemini-2.5-flash:generateContent?key=${g.access.token}`,
      { body },
    );
    assert.equal(byQuery.status, 200);
    await text(byQuery);
    assert.equal(upstream.requests.at(-1)!.query.has('key'), false);

    const byModel = Object.fromEntries(g.usage().byModel.map((m) => [m.model, m]));
    assert.equal(byModel['gemini-2.5-pro']!.outputTokens, 358);
    assert.equal(byModel['gemini-2.5-pro']!.cacheReadTokens, 12000);
    assert.equal(byModel['gemini-2.5-flash']!.inputTokens, 880);
    assert.equal(byModel['gemini-2.5-flash']!.outputTokens, 46);
    assert.ok(Math.abs(byModel['gemini-2.5-flash']!.costUsd! - (880 * 0.3 + 46 * 2.5) / 1e6) < 1e-12);
    g.revoke();
  });

  test('live tokens are registered with the redactor and forgotten on revoke', () => {
    const g = grant();
    assert.equal(redactor.redact(`env: ${g.access.token}`), 'env: ***');
    g.revoke();
    assert.equal(redactor.redact(g.access.token), g.access.token);
    for (const key of Object.values(upstream.keys)) assert.equal(redactor.redact(key), '***');
  });
});

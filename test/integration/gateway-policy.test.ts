/**
 * What the gateway refuses and cuts off: bad tokens, caps, unconfigured providers, paths outside
 * the model endpoints, revoked turns mid-stream, responses that report no usage.
 * Each refusal must reach nothing upstream and read like the provider's own error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startModelGateway } from '../../src/gateway/server.js';
import type { GrantOptions, ModelGateway, TurnGrant } from '../../src/gateway/types.js';
import { type FakeUpstream, startFakeUpstream } from '../kit/fake-upstream.js';
import { captureLog, send } from '../kit/gateway-client.js';
import { MODEL_STREAMS } from '../kit/model-streams.js';
import { freePort } from '../kit/net.js';

let upstream: FakeUpstream;
let gateway: ModelGateway;
const logs = captureLog();

const messages = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
};
const responses = { model: 'gpt-5', input: 'hi', stream: true };
const geminiPath = '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse';
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };

function grant(options: Partial<GrantOptions> = {}): TurnGrant {
  const g = gateway.grant({ taskId: 'task-2', turn: 3, ...options });
  upstream.forbid(g.access.token);
  return g;
}

/** Sends one request per provider with `token`; returns status and parsed error bodies. */
async function everyProvider(token: string) {
  const a = await send(`${gateway.url}/anthropic/v1/messages`, {
    headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01' },
    body: messages,
  });
  const o = await send(`${gateway.url}/openai/v1/responses`, {
    headers: { authorization: `Bearer ${token}` },
    body: responses,
  });
  const g = await send(`${gateway.url}/gemini${geminiPath}`, {
    headers: { 'x-goog-api-key': token },
    body: geminiBody,
  });
  return {
    anthropic: { status: a.status, body: await a.json() },
    openai: { status: o.status, body: await o.json() },
    gemini: { status: g.status, body: await g.json() },
  };
}

before(async () => {
  upstream = await startFakeUpstream();
  gateway = await startModelGateway({
    host: '127.0.0.1',
    port: 0,
    upstreams: {
      anthropic: { baseUrl: upstream.baseUrls.anthropic, apiKey: upstream.keys.anthropic },
      openai: { baseUrl: upstream.baseUrls.openai, apiKey: upstream.keys.openai },
      // Gemini has no key on this Forge.
      gemini: { baseUrl: upstream.baseUrls.gemini },
    },
    log: logs.log,
  });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  const logged = logs.lines.join('\n');
  for (const key of Object.values(upstream.keys)) assert.equal(logged.includes(key), false);
  upstream.assertClean();
});

describe('refusals', () => {
  test('unknown, revoked and expired tokens get 401 in each provider’s style, and nothing is forwarded', async () => {
    const revoked = grant();
    revoked.revoke();
    const expired = grant({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const before = upstream.requests.length;
    for (const token of ['forge-turn-guessed', revoked.access.token, expired.access.token, '']) {
      const r = await everyProvider(token);
      assert.equal(r.anthropic.status, 401);
      assert.deepEqual(r.anthropic.body, {
        type: 'error',
        error: {
          type: 'authentication_error',
          message: 'Forge gateway: the turn token is unknown, revoked or expired.',
        },
      });
      assert.equal(r.openai.status, 401);
      assert.equal((r.openai.body as { error: { code: string } }).error.code, 'invalid_api_key');
      assert.equal(r.gemini.status, 401);
      assert.equal((r.gemini.body as { error: { status: string } }).error.status, 'UNAUTHENTICATED');
    }
    assert.equal(upstream.requests.length, before);
  });

  test('a cap refuses the request with a non-retryable 403 carrying the reason; nothing reaches the upstream', async () => {
    const reason = 'The turn reached its limit of 1 agent steps (model requests).';
    const g = grant({ admit: (u) => (u.requests > 1 ? reason : undefined) });
    const ok = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
      headers: { 'x-api-key': g.access.token },
      body: messages,
    });
    assert.equal(ok.status, 200);
    await ok.body;
    const before = upstream.requests.length;
    const refused = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
      headers: { 'x-api-key': g.access.token },
      body: messages,
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), {
      type: 'error',
      error: { type: 'permission_error', message: `Forge stopped this request: ${reason}` },
    });
    const openai = await send(`${g.access.openaiBaseUrl}/responses`, {
      headers: { authorization: `Bearer ${g.access.token}` },
      body: responses,
    });
    assert.equal(openai.status, 403);
    assert.equal(
      ((await openai.json()) as { error: { message: string } }).error.message,
      `Forge stopped this request: ${reason}`,
    );
    // count_tokens is not a step and is not capped.
    const count = await send(`${g.access.anthropicBaseUrl}/v1/messages/count_tokens`, {
      headers: { 'x-api-key': g.access.token },
      body: messages,
    });
    assert.equal(count.status, 200);
    await count.body;
    assert.equal(upstream.requests.length, before + 1);
    assert.equal(upstream.requests.at(-1)!.path, '/v1/messages/count_tokens');
    assert.equal(g.usage().requests, 1, 'refused requests are not counted');
    g.revoke();
  });

  test('a provider without a key on this Forge: 403 naming the setting, nothing forwarded', async () => {
    const g = grant();
    const before = upstream.requests.length;
    const res = await send(`${g.access.geminiBaseUrl}${geminiPath}`, {
      headers: { 'x-goog-api-key': g.access.token },
      body: geminiBody,
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: { code: number; status: string; message: string } };
    assert.equal(body.error.status, 'PERMISSION_DENIED');
    assert.match(body.error.message, /^GEMINI_API_KEY is not set on this Forge/);
    assert.equal(upstream.requests.length, before);
    assert.equal(g.usage().requests, 0);
    g.revoke();
  });

  test('paths beyond the model endpoints and WebSocket upgrades stay at the gateway', async () => {
    const g = grant();
    const before = upstream.requests.length;
    for (const [path, body] of [
      ['/anthropic/v1/messages/batches', { requests: [] }],
      ['/anthropic/v1/files', {}],
      ['/openai/v1/batches', {}],
      ['/openai/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }],
      ['/openai/responses', responses],
      ['/gemini/v1beta/cachedContents', {}],
      ['/other', {}],
    ] as const) {
      const res = await send(`${gateway.url}${path}`, {
        headers: { 'x-api-key': g.access.token, authorization: `Bearer ${g.access.token}` },
        body,
      });
      assert.equal(res.status, 404, path);
      await res.body;
    }
    const ws = await send(`${g.access.openaiBaseUrl}/responses`, {
      headers: { authorization: `Bearer ${g.access.token}`, connection: 'Upgrade', upgrade: 'websocket' },
    }).catch((error: Error) => error);
    assert.ok(!(ws instanceof Error) && ws.status === 400, 'WebSocket upgrade answered 400');
    assert.equal(upstream.requests.length, before);
    g.revoke();
  });

  test('an unreachable upstream: 502 in the provider’s style, without the key', async () => {
    const dead = await startModelGateway({
      host: '127.0.0.1',
      port: 0,
      upstreams: {
        anthropic: { baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: upstream.keys.anthropic },
        openai: { baseUrl: upstream.baseUrls.openai },
        gemini: { baseUrl: upstream.baseUrls.gemini },
      },
    });
    const g = dead.grant({ taskId: 't', turn: 1 });
    const res = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
      headers: { 'x-api-key': g.access.token },
      body: messages,
    });
    assert.equal(res.status, 502);
    const text = (await res.body).toString();
    assert.match(text, /"api_error".*could not reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.equal(text.includes(upstream.keys.anthropic), false);
    await dead.close();
  });
});

describe('revoking a turn', () => {
  test('cuts off a response in flight, and the upstream sees the connection go', async () => {
    const g = grant();
    upstream.holdNext();
    const cutBefore = upstream.cutOff;
    const res = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
      headers: { 'x-api-key': g.access.token },
      body: messages,
    });
    assert.equal(res.status, 200);
    await res.first;
    g.revoke();
    await assert.rejects(res.body, /cut off|aborted/);
    for (let i = 0; i < 100 && upstream.cutOff === cutBefore; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(upstream.cutOff, cutBefore + 1);
    // What the stream had said before the cut (message_start's input tokens) is kept.
    assert.equal(g.usage().inputTokens, 20492);
    const again = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
      headers: { 'x-api-key': g.access.token },
      body: messages,
    });
    assert.equal(again.status, 401);
    await again.body;
  });
});

describe('upstream failures', () => {
  test('a provider that drops the stream mid-way: the client’s stream is cut too, the partial usage kept', async () => {
    const g = grant();
    upstream.setReply((req) => {
      if (req.path !== '/v1/messages') return undefined;
      const chunks = MODEL_STREAMS.anthropicSse.body
        .toString()
        .split(/(?<=\n\n)/)
        .map((c) => Buffer.from(c));
      return { headers: { 'content-type': 'text/event-stream' }, chunks, dropAfter: 3 };
    });
    try {
      const res = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
        headers: { 'x-api-key': g.access.token },
        body: messages,
      });
      assert.equal(res.status, 200);
      await assert.rejects(res.body, /cut off|aborted/);
    } finally {
      upstream.setReply(undefined);
    }
    for (let i = 0; i < 100 && g.usage().inputTokens === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(g.usage().inputTokens, 20492, 'message_start had arrived');
    g.revoke();
  });
});

describe('responses without usage', () => {
  test('a client that drops a stream before its usage event is still charged, by estimate', async () => {
    const g = grant();
    upstream.holdNext();
    const cutBefore = upstream.cutOff;
    const body = { ...responses, input: 'x'.repeat(4000) };
    const res = await send(`${g.access.openaiBaseUrl}/responses`, {
      headers: { authorization: `Bearer ${g.access.token}` },
      body,
    });
    const first = await res.first;
    res.abort();
    for (let i = 0; i < 100 && upstream.cutOff === cutBefore; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(upstream.cutOff, cutBefore + 1, 'the upstream request is stopped too');
    const usage = g.usage();
    assert.equal(usage.requests, 1);
    assert.equal(usage.inputTokens, Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4));
    assert.equal(usage.outputTokens, Math.ceil(first.byteLength / 4));
    assert.ok(usage.costUsd! > 0);
    assert.ok(logs.lines.some((l) => l.includes('gateway estimated usage')));
    g.revoke();
  });
});

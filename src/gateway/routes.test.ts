import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectBody, modelName } from './request-body.js';
import {
  classify,
  forwardRequestHeaders,
  forwardResponseHeaders,
  presentedCredentials,
  upstreamAuth,
} from './routes.js';

test('the model endpoints the CLIs call are forwarded; generation ones are agent steps', () => {
  assert.deepEqual(classify('anthropic', 'POST', '/v1/messages'), {
    kind: 'generation',
    protocol: 'anthropic-messages',
  });
  assert.deepEqual(classify('anthropic', 'POST', '/v1/messages/count_tokens'), { kind: 'passthrough' });
  assert.deepEqual(classify('anthropic', 'GET', '/v1/models/claude-sonnet-4-5'), { kind: 'passthrough' });
  assert.deepEqual(classify('openai', 'POST', '/responses'), {
    kind: 'generation',
    protocol: 'openai-responses',
  });
  assert.deepEqual(classify('openai', 'POST', '/responses/compact'), {
    kind: 'generation',
    protocol: 'openai-responses',
  });
  assert.deepEqual(classify('openai', 'POST', '/chat/completions'), {
    kind: 'generation',
    protocol: 'openai-chat',
  });
  assert.deepEqual(classify('openai', 'GET', '/models'), { kind: 'passthrough' });
  assert.deepEqual(classify('gemini', 'POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent'), {
    kind: 'generation',
    protocol: 'gemini',
    pathModel: 'gemini-2.5-pro',
  });
  assert.deepEqual(
    classify('gemini', 'POST', '/v1/models/gemini-2.5-flash:generateContent')?.pathModel,
    'gemini-2.5-flash',
  );
  assert.deepEqual(classify('gemini', 'POST', '/v1beta/models/gemini-2.5-pro:countTokens'), {
    kind: 'passthrough',
  });
  assert.deepEqual(classify('gemini', 'GET', '/v1beta/models'), { kind: 'passthrough' });
});

test('everything else stays at the gateway: batches, files, admin, other methods', () => {
  for (const [provider, method, path] of [
    ['anthropic', 'POST', '/v1/messages/batches'],
    ['anthropic', 'GET', '/v1/messages'],
    ['anthropic', 'POST', '/v1/files'],
    ['anthropic', 'POST', '/v1/complete'],
    ['anthropic', 'GET', '/v1/organizations/workspaces'],
    ['anthropic', 'POST', '/api/event_logging/v2/batch'],
    ['openai', 'POST', '/batches'],
    ['openai', 'POST', '/files'],
    ['openai', 'POST', '/fine_tuning/jobs'],
    ['openai', 'POST', '/embeddings'],
    ['openai', 'DELETE', '/models/ft:gpt-4o:acme'],
    ['openai', 'GET', '/responses/resp_123'],
    ['gemini', 'POST', '/v1beta/models/gemini-2.5-pro:batchGenerateContent'],
    ['gemini', 'POST', '/v1beta/cachedContents'],
    ['gemini', 'POST', '/upload/v1beta/files'],
    ['gemini', 'POST', '/v1beta/models/../files:streamGenerateContent'],
  ] as const) {
    assert.equal(classify(provider, method, path), undefined, `${provider} ${method} ${path}`);
  }
});

test('the turn token is found wherever a client puts its key', () => {
  const q = (s = '') => new URLSearchParams(s);
  assert.deepEqual(presentedCredentials({ 'x-api-key': 'a' }, q()), ['a']);
  assert.deepEqual(presentedCredentials({ authorization: 'Bearer b' }, q()), ['b']);
  assert.deepEqual(presentedCredentials({ authorization: 'bearer  b2 ' }, q()), ['b2']);
  assert.deepEqual(presentedCredentials({ 'x-goog-api-key': 'c' }, q()), ['c']);
  assert.deepEqual(presentedCredentials({}, q('alt=sse&key=d')), ['d']);
  assert.deepEqual(presentedCredentials({ authorization: 'Basic Zm9vOmJhcg==' }, q()), []);
});

test('client credentials and hop-by-hop headers are dropped; the upstream gets the real key', () => {
  const out = forwardRequestHeaders({
    authorization: 'Bearer turn',
    'x-api-key': 'turn',
    'x-goog-api-key': 'turn',
    'proxy-authorization': 'Basic x',
    connection: 'keep-alive, x-private',
    'x-private': 'hop',
    'keep-alive': 'timeout=5',
    host: 'gateway:8089',
    'content-length': '12',
    'accept-encoding': 'gzip, br',
    'anthropic-version': '2023-06-01',
    'anthropic-beta': 'interleaved-thinking-2025-05-14',
    'user-agent': 'claude-cli/2.1.330 (external, sdk-cli)',
    'content-type': 'application/json',
  });
  assert.deepEqual(out, {
    'anthropic-version': '2023-06-01',
    'anthropic-beta': 'interleaved-thinking-2025-05-14',
    'user-agent': 'claude-cli/2.1.330 (external, sdk-cli)',
    'content-type': 'application/json',
  });
  assert.deepEqual(upstreamAuth('anthropic', 'K'), { 'x-api-key': 'K' });
  assert.deepEqual(upstreamAuth('openai', 'K'), { authorization: 'Bearer K' });
  assert.deepEqual(upstreamAuth('gemini', 'K'), { 'x-goog-api-key': 'K' });
  assert.deepEqual(
    forwardResponseHeaders({
      'content-type': 'text/event-stream',
      'transfer-encoding': 'chunked',
      connection: 'keep-alive',
      'request-id': 'req_1',
      'content-length': '5',
    }),
    { 'content-type': 'text/event-stream', 'request-id': 'req_1', 'content-length': '5' },
  );
});

test('request bodies: the model is read, and only streamed Chat Completions are changed (include_usage)', () => {
  const gen = (protocol: 'openai-chat' | 'anthropic-messages') => ({ kind: 'generation' as const, protocol });
  const chat = Buffer.from(JSON.stringify({ model: 'gpt-4.1', stream: true, messages: [] }));
  const inspected = inspectBody(gen('openai-chat'), chat);
  assert.equal(inspected.model, 'gpt-4.1');
  assert.equal(inspected.rewritten, true);
  assert.deepEqual(JSON.parse(inspected.body.toString()).stream_options, { include_usage: true });

  const kept = Buffer.from('{"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true}}');
  assert.equal(inspectBody(gen('openai-chat'), kept).body, kept);
  const other = Buffer.from(
    '{"model":"gpt-4.1","stream":true,"stream_options":{"include_obfuscation":false}}',
  );
  assert.deepEqual(JSON.parse(inspectBody(gen('openai-chat'), other).body.toString()).stream_options, {
    include_obfuscation: false,
    include_usage: true,
  });
  const unstreamed = Buffer.from('{"model":"gpt-4.1","messages":[]}');
  assert.equal(inspectBody(gen('openai-chat'), unstreamed).body, unstreamed);

  const messages = Buffer.from('{"model":"claude-opus-4-6","stream":true}');
  assert.deepEqual(inspectBody(gen('anthropic-messages'), messages), {
    model: 'claude-opus-4-6',
    body: messages,
    rewritten: false,
  });
  const broken = Buffer.from('{"model":');
  assert.deepEqual(inspectBody(gen('anthropic-messages'), broken), { body: broken, rewritten: false });
  assert.equal(
    inspectBody({ kind: 'generation', protocol: 'gemini', pathModel: 'gemini-2.5-pro' }, Buffer.from('{}'))
      .model,
    'gemini-2.5-pro',
  );
});

test('model names from the agent are kept short and plain', () => {
  assert.equal(modelName(' claude-sonnet-4-5-20250929 '), 'claude-sonnet-4-5-20250929');
  assert.equal(modelName('models/gemini-2.5-pro'), 'models/gemini-2.5-pro');
  assert.equal(modelName('x'.repeat(5000))?.length, 100);
  assert.equal(modelName('gpt-5\n<script>@everyone'), 'gpt-5__script_@everyone');
  assert.equal(modelName('   '), undefined);
});

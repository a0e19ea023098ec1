import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sseEvents } from '../protocol-client.js';
import { type FakeModel, startFakeModel } from '../server.js';
import { openaiChatProtocol } from './openai-chat.js';

let fake: FakeModel;
before(async () => {
  fake = await startFakeModel({ protocols: [openaiChatProtocol] });
});
after(() => fake.close());
beforeEach(() => {
  fake.violations.length = 0;
  fake.requests.length = 0;
});

const SYSTEM = 'You are OpenCode.\n<env>\n  Working directory: /work/checkout\n</env>';
const fn = (name: string, properties: Record<string, unknown>) => ({
  type: 'function',
  function: {
    name,
    description: name,
    parameters: { type: 'object', properties, required: Object.keys(properties) },
  },
});
const TOOLS = [
  fn('bash', { command: { type: 'string' } }),
  fn('write', { filePath: { type: 'string' }, content: { type: 'string' } }),
];

function body(messages: unknown[], extra: Record<string, unknown> = {}) {
  return {
    model: 'qwen3-coder',
    max_tokens: 32000,
    messages: [{ role: 'system', content: SYSTEM }, ...messages],
    tools: TOOLS,
    tool_choice: 'auto',
    stream: true,
    stream_options: { include_usage: true },
    ...extra,
  };
}

async function post(payload: unknown, headers: Record<string, string> = {}, path = '/v1/chat/completions') {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer turn-token', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The SSE events; the last must be [DONE]. */
function events(text: string): Array<Record<string, any>> {
  const data = sseEvents(text).map((e) => e.data);
  assert.equal(data.at(-1), '[DONE]');
  return data.slice(0, -1).map((d) => JSON.parse(d));
}

describe('fake Chat Completions: valid requests', () => {
  it('streams text deltas, a finish chunk and a usage chunk, then [DONE]', async () => {
    const res = await post(body([{ role: 'user', content: 'Hi [[say:Hello there!]]' }]));
    assert.equal(res.status, 200);
    assert.match(res.type, /text\/event-stream/);
    const chunks = events(res.text);
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    const usageChunk = chunks.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    const { usage } = fake.requests[0]!;
    assert.equal(usageChunk.usage.prompt_tokens, usage.inputTokens);
    assert.equal(usageChunk.usage.completion_tokens, usage.outputTokens);
    assert.equal(usageChunk.usage.total_tokens, usage.inputTokens + usage.outputTokens);
    const choices = chunks.slice(0, -1);
    for (const c of choices) assert.equal(c.usage, null, 'every other chunk carries usage: null');
    assert.equal(choices[0]!.choices[0].delta.role, 'assistant');
    assert.equal(choices.map((c) => c.choices[0].delta.content ?? '').join(''), 'Hello there!');
    assert.equal(choices.at(-1)!.choices[0].finish_reason, 'stop');
    assert.deepEqual(fake.violations, []);
  });

  it("streams OpenCode's write tool call in pieces that join into its arguments", async () => {
    const res = await post(body([{ role: 'user', content: 'Go [[write:notes/a.md:# A]] [[shell:ls]]' }]));
    const chunks = events(res.text).filter((c) => c.choices.length);
    const calls = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    assert.equal(calls[0].id.startsWith('call_'), true);
    assert.equal(calls[0].type, 'function');
    assert.equal(calls[0].function.name, 'write');
    const args = JSON.parse(calls.map((c: any) => c.function.arguments).join(''));
    assert.deepEqual(args, { filePath: '/work/checkout/notes/a.md', content: '# A' });
    assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');

    const history = [
      { role: 'user', content: 'Go [[write:notes/a.md:# A]] [[shell:ls]]' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: calls[0].id, type: 'function', function: { name: 'write', arguments: JSON.stringify(args) } },
        ],
      },
      { role: 'tool', tool_call_id: calls[0].id, content: 'Wrote file successfully.' },
    ];
    const next = events((await post(body(history))).text).filter((c) => c.choices.length);
    const shell = next.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    assert.equal(shell[0].function.name, 'bash');
    assert.deepEqual(JSON.parse(shell.map((c: any) => c.function.arguments).join('')), { command: 'ls' });
    assert.deepEqual(fake.violations, []);
  });

  it("writes with OpenCode's apply_patch where a gpt model gets that instead of write", async () => {
    const tools = [fn('apply_patch', { patchText: { type: 'string' } }), TOOLS[0]];
    const res = await post(
      body([{ role: 'user', content: '[[write:a.txt:one\ntwo]]' }], {
        tools,
        model: 'gpt-5',
        reasoning_effort: 'medium',
      }),
    );
    const calls = events(res.text).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const args = JSON.parse(calls.map((c: any) => c.function.arguments).join(''));
    assert.equal(args.patchText, '*** Begin Patch\n*** Add File: a.txt\n+one\n+two\n*** End Patch');
    assert.deepEqual(fake.violations, []);
  });

  it('answers non-streaming requests (a title request offers no tools) with one chat.completion', async () => {
    const res = await post({
      model: 'qwen3-coder',
      messages: [
        { role: 'system', content: 'You are a title generator.' },
        { role: 'user', content: [{ type: 'text', text: 'Generate a title' }] },
      ],
    });
    assert.equal(res.status, 200);
    const completion = JSON.parse(res.text);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(completion.choices[0].message.content, 'Forge task');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.ok(completion.usage.total_tokens > 0);
    assert.equal(fake.requests[0]!.exchange.stream, false);
    assert.deepEqual(fake.violations, []);
  });

  it('leaves usage out of the stream unless asked for', async () => {
    const chunks = events(
      (await post(body([{ role: 'user', content: '[[say:x]]' }], { stream_options: undefined }))).text,
    );
    for (const c of chunks) assert.equal('usage' in c, false);
  });
});

describe('fake Chat Completions: malformed requests are 400s and violations', () => {
  const call = { id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } };
  const asked = { role: 'assistant', content: null, tool_calls: [call] };
  const u = { role: 'user', content: 'x' };
  const cases: Array<[string, unknown, RegExp, Record<string, string>?]> = [
    ['no model', { ...body([u]), model: undefined }, /model: is required/],
    ['no messages', { ...body([]), messages: undefined }, /messages: is required/],
    ['empty messages', { ...body([]), messages: [] }, /messages: must not be empty/],
    ['an unknown parameter', body([u], { thinking: true }), /thinking: unknown field/],
    ['an unknown role', body([{ role: 'human', content: 'x' }]), /"human" is not one of/],
    [
      'an unknown message field',
      body([{ ...u, reasoning_content: 'x' }]),
      /reasoning_content: unknown field/,
    ],
    [
      'an assistant message with neither content nor tool calls',
      body([u, { role: 'assistant' }, u]),
      /content: is required unless 'tool_calls'/,
    ],
    [
      'a tool message without a call',
      body([u, { role: 'tool', tool_call_id: 'call_9', content: 'out' }]),
      /not a response to a preceding message with 'tool_calls'/,
    ],
    ['an unanswered tool call', body([u, asked, u]), /tool_calls without response messages: call_1/],
    [
      'a tool message for another id',
      body([u, asked, { role: 'tool', tool_call_id: 'call_2', content: 'out' }]),
      /"call_2" is not a response/,
    ],
    [
      'a tool message without its id',
      body([u, asked, { role: 'tool', content: 'out' }]),
      /tool_call_id: expected a string/,
    ],
    [
      'arguments that are not a string',
      body([
        u,
        { ...asked, tool_calls: [{ ...call, function: { name: 'bash', arguments: { command: 'ls' } } }] },
      ]),
      /arguments: expected a string/,
    ],
    [
      'arguments that are not JSON',
      body([u, { ...asked, tool_calls: [{ ...call, function: { name: 'bash', arguments: '{command' } }] }]),
      /arguments: is not valid JSON/,
    ],
    [
      'duplicate tool call ids',
      body([
        u,
        { ...asked, tool_calls: [call, call] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a' },
      ]),
      /duplicate tool call ids/,
    ],
    [
      'tool_choice without tools',
      body([u], { tools: undefined }),
      /tool_choice: is only allowed when 'tools' are specified/,
    ],
    [
      'stream_options without stream',
      body([u], { stream: false }),
      /stream_options: is only allowed when 'stream' is enabled/,
    ],
    ['a bad tool name', body([u], { tools: [fn('no spaces allowed', {})] }), /does not match/],
    ['duplicate tool names', body([u], { tools: [TOOLS[0], TOOLS[0]] }), /duplicate tool name bash/],
    [
      'parameters that are not an object schema',
      body([u], { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string' } } }] }),
      /must be a JSON schema of type 'object'/,
    ],
    ['a temperature out of range', body([u], { temperature: 5 }), /temperature: 5 is above 2/],
    [
      'an unknown reasoning effort',
      body([u], { reasoning_effort: 'max' }),
      /reasoning_effort: "max" is not one of/,
    ],
    [
      'a content part of an unknown type',
      body([{ role: 'user', content: [{ type: 'video', url: 'x' }] }]),
      /type: "video" is not one of/,
    ],
    ['no Authorization header', body([u]), /no API key \(Authorization: Bearer/, { authorization: '' }],
    [
      'a non-JSON content type',
      body([u]),
      /content-type must be application\/json/,
      { 'content-type': 'text/plain' },
    ],
  ];
  for (const [name, payload, expected, headers] of cases) {
    it(`rejects ${name}`, async () => {
      const res = await post(payload, headers);
      assert.equal(res.status, 400, res.text);
      assert.match(fake.violations.join('\n'), expected);
      assert.equal(fake.requests.length, 0);
    });
  }

  it('rejects other paths', async () => {
    assert.equal((await post(body([u]), {}, '/chat/completions')).status, 404);
    assert.equal((await post(body([u]), {}, '/v1/completions')).status, 404);
    assert.equal(fake.violations.length, 2);
  });
});

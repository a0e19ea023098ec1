import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sseEvents, violationsOf } from '../protocol-client.js';
import { type FakeModel, startFakeModel } from '../server.js';
import { addFilePatch } from './codex-tools.js';
import { openaiResponsesProtocol } from './openai-responses.js';

let fake: FakeModel;
before(async () => {
  fake = await startFakeModel({ protocols: [openaiResponsesProtocol] });
});
after(() => fake.close());

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer tok' };
const EXEC_COMMAND = {
  type: 'function',
  name: 'exec_command',
  description: 'Run a command',
  strict: false,
  parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] },
};
const APPLY_PATCH = {
  type: 'custom',
  name: 'apply_patch',
  description: 'Edit files',
  format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' },
};

function request(body: Record<string, unknown>, headers: Record<string, string> = HEADERS) {
  return fetch(`${fake.url}/v1/responses`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const userMessage = (text: string) => ({
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text }],
});
const valid = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-5.5',
  stream: true,
  store: false,
  tools: [EXEC_COMMAND, APPLY_PATCH],
  tool_choice: 'auto',
  parallel_tool_calls: true,
  reasoning: { effort: 'medium', summary: 'auto' },
  include: ['reasoning.encrypted_content'],
  input: [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
    userMessage('[[write:src/a.txt:one\ntwo]] [[shell:make test]]'),
  ],
  ...extra,
});

function sse(text: string): Array<Record<string, unknown>> {
  return sseEvents(text).map(({ event, data }) => {
    const parsed = JSON.parse(data) as Record<string, unknown>;
    assert.equal(parsed.type, event);
    return parsed;
  });
}

describe('fake model: OpenAI Responses', () => {
  it('streams a custom tool call (apply_patch) with input deltas and sequence numbers', async () => {
    const res = await request(valid());
    assert.equal(res.status, 200);
    const events = sse(await res.text());
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        ...Array(3).fill('response.custom_tool_call_input.delta'),
        'response.custom_tool_call_input.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const done = events.find((e) => e.type === 'response.output_item.done')?.item as Record<string, unknown>;
    assert.equal(done.type, 'custom_tool_call');
    assert.equal(done.name, 'apply_patch');
    assert.match(String(done.call_id), /^call_/);
    const input = events
      .filter((e) => e.type === 'response.custom_tool_call_input.delta')
      .map((e) => e.delta)
      .join('');
    assert.equal(input, addFilePatch('src/a.txt', 'one\ntwo'));
    assert.equal(input, '*** Begin Patch\n*** Add File: src/a.txt\n+one\n+two\n*** End Patch\n');
    const completed = events.at(-1)?.response as Record<string, unknown>;
    assert.equal(completed.status, 'completed');
    const served = fake.requests.at(-1)?.usage;
    assert.deepEqual(completed.usage, {
      input_tokens: served?.inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: served?.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: (served?.inputTokens ?? 0) + (served?.outputTokens ?? 0),
    });
  });

  it('streams a function call (exec_command) after the patch was applied', async () => {
    const res = await request(
      valid({
        input: [
          userMessage('[[write:src/a.txt:x]] [[shell:make test]]'),
          { type: 'custom_tool_call', call_id: 'call_1', name: 'apply_patch', input: '*** Begin Patch' },
          { type: 'custom_tool_call_output', call_id: 'call_1', output: 'Done' },
        ],
      }),
    );
    const events = sse(await res.text());
    const args = events
      .filter((e) => e.type === 'response.function_call_arguments.delta')
      .map((e) => e.delta)
      .join('');
    assert.deepEqual(JSON.parse(args), { cmd: 'make test' });
    const item = events.find((e) => e.type === 'response.output_item.done')?.item as Record<string, unknown>;
    assert.equal(item.type, 'function_call');
    assert.equal(item.arguments, args);
    fake.assertNoViolations();
  });

  it('answers with text, streamed or not, once every action ran', async () => {
    const input = [
      userMessage('[[shell:ls]] [[say:Listed.]]'),
      { type: 'function_call', call_id: 'call_1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'a.txt' },
    ];
    const streamed = sse(await (await request(valid({ input }))).text());
    assert.equal(
      streamed
        .filter((e) => e.type === 'response.output_text.delta')
        .map((e) => e.delta)
        .join(''),
      'Listed.',
    );
    assert.ok(streamed.some((e) => e.type === 'response.content_part.added'));
    const plain = (await (await request(valid({ input, stream: false }))).json()) as Record<string, unknown>;
    assert.equal(plain.object, 'response');
    assert.equal(plain.status, 'completed');
    const [message] = plain.output as Array<Record<string, unknown>>;
    assert.deepEqual(message?.content, [
      { type: 'output_text', text: 'Listed.', annotations: [], logprobs: [] },
    ]);
    assert.deepEqual(
      fake.requests.at(-1)?.exchange.messages.map((m) => m.role),
      ['user', 'assistant', 'tool'],
    );
  });

  it("offers the tools of Codex's code mode: additional_tools items with namespaces", async () => {
    const res = await request(
      valid({
        tools: undefined,
        reasoning: { effort: 'low', context: 'all_turns' },
        input: [
          {
            type: 'additional_tools',
            id: 'at_1',
            role: 'developer',
            tools: [
              {
                type: 'namespace',
                name: 'functions',
                description: '',
                tools: [
                  { ...APPLY_PATCH, name: 'exec' },
                  { ...EXEC_COMMAND, name: 'wait' },
                ],
              },
            ],
          },
          userMessage('[[shell:make test]]'),
        ],
      }),
    );
    assert.equal(res.status, 200);
    const events = sse(await res.text());
    const item = events.find((e) => e.type === 'response.output_item.done')?.item as Record<string, unknown>;
    assert.equal(item.type, 'custom_tool_call');
    assert.equal(item.name, 'exec');
    assert.match(String(item.input), /await tools\.exec_command\(\{ cmd: "make test" \}\)/);
    assert.deepEqual(fake.requests.at(-1)?.exchange.tools, ['exec', 'wait']);
    fake.assertNoViolations();
  });

  describe('rejects what the real API rejects, recording a violation', () => {
    const call = { type: 'function_call', call_id: 'call_1', name: 'exec_command', arguments: '{}' };
    const cases: Array<[string, Record<string, unknown>, RegExp, Record<string, string>?]> = [
      ['no model', { ...valid(), model: undefined }, /model: expected a string/],
      ['unknown parameter', valid({ max_tokens: 10 }), /max_tokens: unknown field/],
      ['no input', { ...valid(), input: undefined }, /input: is required/],
      ['unknown item type', valid({ input: [{ type: 'thought', text: 'x' }] }), /input\.0\.type/],
      ['unknown role', valid({ input: [{ type: 'message', role: 'tool', content: 'x' }] }), /input\.0\.role/],
      [
        'input part in an assistant message',
        valid({
          input: [{ type: 'message', role: 'assistant', content: [{ type: 'input_text', text: 'x' }] }],
        }),
        /input\.0\.content\.0\.type/,
      ],
      [
        'output for an unknown call',
        valid({
          input: [userMessage('x'), { type: 'function_call_output', call_id: 'call_9', output: 'x' }],
        }),
        /No tool call found for function_call_output with call_id call_9/,
      ],
      [
        'call without output',
        valid({ input: [userMessage('x'), call] }),
        /No tool output found for function call call_1/,
      ],
      [
        'arguments not JSON',
        valid({
          input: [
            userMessage('x'),
            { ...call, arguments: '{cmd' },
            { type: 'function_call_output', call_id: 'call_1', output: '' },
          ],
        }),
        /arguments: is not valid JSON/,
      ],
      [
        'custom output for a function call',
        valid({
          input: [userMessage('x'), call, { type: 'custom_tool_call_output', call_id: 'call_1', output: '' }],
        }),
        /No tool call found for custom_tool_call_output/,
      ],
      [
        'tool without a name',
        valid({ tools: [{ type: 'function', parameters: { type: 'object' } }] }),
        /tools\.0\.name/,
      ],
      [
        'duplicate tool names',
        valid({ tools: [EXEC_COMMAND, EXEC_COMMAND] }),
        /duplicate tool name exec_command/,
      ],
      ['unknown tool type', valid({ tools: [{ type: 'browser' }] }), /tools\.0\.type/],
      ['bad include', valid({ include: ['everything'] }), /include\.0/],
      ['bad reasoning context', valid({ reasoning: { context: 'forever' } }), /reasoning\.context/],
      ['stream not a boolean', valid({ stream: 'true' }), /stream: expected a boolean/],
      ['no API key', valid(), /You didn't provide an API key/, { 'content-type': 'application/json' }],
    ];
    for (const [name, body, expected, headers] of cases) {
      it(name, async () => {
        const found = await violationsOf(fake, () => request(body, headers));
        assert.ok(
          found.some((v) => expected.test(v)),
          found.join('; '),
        );
      });
    }
  });
});

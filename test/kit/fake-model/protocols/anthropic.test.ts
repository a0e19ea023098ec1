import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sseEvents, violationsOf } from '../protocol-client.js';
import { type FakeModel, startFakeModel } from '../server.js';
import { anthropicProtocol } from './anthropic.js';

let fake: FakeModel;
before(async () => {
  fake = await startFakeModel({ protocols: [anthropicProtocol] });
});
after(() => fake.close());

const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'tok', 'anthropic-version': '2023-06-01' };
const WRITE_TOOL = {
  name: 'Write',
  description: 'Write a file',
  input_schema: {
    type: 'object',
    properties: { file_path: { type: 'string' }, content: { type: 'string' } },
    required: ['file_path', 'content'],
  },
};
const BASH_TOOL = {
  name: 'Bash',
  input_schema: { type: 'object', properties: { command: { type: 'string' } } },
};
const ENV = '<system-reminder>\n - Primary working directory: /work/checkout\n</system-reminder>';

function request(body: Record<string, unknown>, headers: Record<string, string> = HEADERS) {
  return fetch(`${fake.url}/v1/messages?beta=true`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const valid = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-5-5',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are Claude Code.' }],
  tools: [WRITE_TOOL, BASH_TOOL],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: ENV },
        { type: 'text', text: '[[write:a.txt:hi]]' },
      ],
    },
  ],
  ...extra,
});

/** `event:`/`data:` pairs of an SSE body. */
function sse(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return sseEvents(text).map(({ event, data }) => ({
    event: event ?? '',
    data: JSON.parse(data) as Record<string, unknown>,
  }));
}

describe('fake model: Anthropic Messages', () => {
  it('streams a tool call as message_start, input_json_delta pieces, message_delta with usage, message_stop', async () => {
    const res = await request(valid({ stream: true }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = sse(await res.text());
    assert.deepEqual(
      [...new Set(events.map((e) => e.event))],
      [
        'message_start',
        'ping',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    for (const e of events) assert.equal(e.data.type, e.event);
    const start = events.find((e) => e.event === 'content_block_start')?.data.content_block as Record<
      string,
      unknown
    >;
    assert.equal(start.type, 'tool_use');
    assert.equal(start.name, 'Write');
    assert.match(String(start.id), /^toolu_/);
    const json = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { type: string; partial_json: string }).partial_json)
      .join('');
    assert.deepEqual(JSON.parse(json), { file_path: '/work/checkout/a.txt', content: 'hi' });
    const delta = events.find((e) => e.event === 'message_delta')?.data;
    assert.ok(delta && events[0]);
    assert.deepEqual(delta.delta, { stop_reason: 'tool_use', stop_sequence: null });
    const served = fake.requests.at(-1)?.usage;
    assert.equal((delta.usage as { output_tokens: number }).output_tokens, served?.outputTokens);
    const startUsage = (events[0].data.message as { usage: { input_tokens: number } }).usage;
    assert.equal(startUsage.input_tokens, served?.inputTokens);
  });

  it('answers without streaming as one message, and with text once the script ran', async () => {
    const body = valid({
      messages: [
        { role: 'user', content: `${ENV}\n[[write:a.txt:hi]] [[say:All done.]]` },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Write', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
      ],
    });
    const res = await request(body);
    assert.equal(res.status, 200);
    const message = (await res.json()) as Record<string, unknown>;
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.deepEqual(message.content, [{ type: 'text', text: 'All done.' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(Object.keys(message.usage as object).sort(), [
      'cache_creation_input_tokens',
      'cache_read_input_tokens',
      'input_tokens',
      'output_tokens',
    ]);
    const exchange = fake.requests.at(-1)?.exchange;
    assert.deepEqual(
      exchange?.messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'tool'],
    );
    assert.deepEqual(exchange?.tools, ['Write', 'Bash']);
  });

  it('accepts Claude Code 2.1 features behind their beta headers: system messages, output_config, adaptive thinking', async () => {
    const res = await request(
      valid({
        thinking: { type: 'adaptive', display: 'updates' },
        output_config: { effort: 'medium' },
        context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
        messages: [
          { role: 'user', content: '[[say:ok]]' },
          { role: 'system', content: [{ type: 'text', text: ENV }], output_config: { effort: 'medium' } },
        ],
      }),
      {
        ...HEADERS,
        'anthropic-beta': 'context-management-2025-06-27,per-turn-control-2026-07-01,effort-2025-11-24',
      },
    );
    assert.equal(res.status, 200, await res.clone().text());
    fake.assertNoViolations();
  });

  describe('rejects what the real API rejects, recording a violation', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp, Record<string, string>?]> = [
      ['no model', { ...valid(), model: undefined }, /model: expected a string/],
      ['no max_tokens', { ...valid(), max_tokens: undefined }, /max_tokens: expected a number/],
      ['unknown field', valid({ temprature: 1 }), /temprature: unknown field/],
      ['empty messages', valid({ messages: [] }), /messages: must not be empty/],
      [
        'system role without beta',
        valid({ messages: [{ role: 'system', content: 'x' }] }),
        /require the per-turn-control/,
      ],
      ['unknown role', valid({ messages: [{ role: 'tool', content: 'x' }] }), /messages\.0\.role/],
      [
        'assistant block in a user message',
        valid({
          messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'Bash', input: {} }] }],
        }),
        /messages\.0\.content\.0\.type/,
      ],
      [
        'empty text block',
        valid({ messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }),
        /text: must not be empty/,
      ],
      [
        'tool_result without its tool_use',
        valid({
          messages: [
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'ok' }] },
          ],
        }),
        /unexpected `tool_use_id` found in `tool_result` blocks: toolu_x/,
      ],
      [
        'tool_use without its tool_result',
        valid({
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }] },
            { role: 'user', content: 'next' },
          ],
        }),
        /`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
      ],
      [
        'text before tool_result',
        valid({
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }] },
            {
              role: 'user',
              content: [
                { type: 'text', text: 'note' },
                { type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' },
              ],
            },
          ],
        }),
        /tool_result blocks must come before any other content/,
      ],
      [
        'tool blocks without tools',
        valid({
          tools: undefined,
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] },
          ],
        }),
        /must define tools/,
      ],
      ['duplicate tool names', valid({ tools: [BASH_TOOL, BASH_TOOL] }), /Tool names must be unique/],
      ['bad tool name', valid({ tools: [{ ...BASH_TOOL, name: 'mcp.server/tool' }] }), /tools\.0\.name/],
      [
        'schema not an object',
        valid({ tools: [{ name: 'X', input_schema: { type: 'string' } }] }),
        /input_schema\.type/,
      ],
      ['stream not a boolean', valid({ stream: 'yes' }), /stream: expected a boolean/],
      [
        'thinking budget over max_tokens',
        valid({ max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 4000 } }),
        /must be greater than `thinking.budget_tokens`/,
      ],
      [
        'too many cache breakpoints',
        valid({
          system: Array.from({ length: 5 }, (_, i) => ({
            type: 'text',
            text: `s${i}`,
            cache_control: { type: 'ephemeral' },
          })),
        }),
        /A maximum of 4 blocks with cache_control/,
      ],
      [
        'no API key',
        valid(),
        /x-api-key header is required/,
        { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      ],
      [
        'no version header',
        valid(),
        /anthropic-version: header is required/,
        { 'content-type': 'application/json', 'x-api-key': 'k' },
      ],
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

  it('records unknown routes as violations', async () => {
    const before = fake.violations.length;
    const res = await fetch(`${fake.url}/v1/complete`, { method: 'POST', headers: HEADERS, body: '{}' });
    assert.equal(res.status, 404);
    assert.deepEqual(fake.violations.splice(before), ['unexpected POST /v1/complete']);
  });
});

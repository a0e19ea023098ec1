import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { MODEL_STREAMS } from '../../test/kit/model-streams.js';
import { createMeter, decodingMeter, estimateUsage, measureBody } from './meter.js';
import { SseDecoder } from './sse.js';

describe('SSE decoder', () => {
  test('events split by blank lines, with event names, multi-line data, comments and CRLF', () => {
    const d = new SseDecoder();
    const events = [
      ...d.push(': keep-alive\n\nevent: a\ndata: 1\ndata: 2\n\n'),
      ...d.push('data: x\r\n\r\ndata:no-space\r'),
      ...d.push('\n\r\nevent: lost\n\ndata: tail'),
      ...d.end(),
    ];
    assert.deepEqual(events, [
      { event: 'a', data: '1\n2' },
      { data: 'x' },
      { data: 'no-space' },
      { data: 'tail' },
    ]);
  });

  test('a multi-byte character split across chunks arrives whole', () => {
    const bytes = Buffer.from('data: café 🚀\n\n', 'utf8');
    const d = new SseDecoder();
    const events = [];
    for (const b of bytes) events.push(...d.push(Uint8Array.of(b)));
    assert.deepEqual(events, [{ data: 'café 🚀' }]);
  });
});

describe('usage from recorded provider responses', () => {
  for (const [name, stream] of Object.entries(MODEL_STREAMS)) {
    test(`${name} (${stream.file}): every chunking gives the recorded usage`, () => {
      for (const size of [Number.POSITIVE_INFINITY, 1, 2, 3, 7, 61, 512]) {
        assert.deepEqual(
          measureBody(stream.protocol, stream.contentType, stream.body, size),
          stream.expected,
          `chunk size ${size}`,
        );
      }
    });
  }

  test('Anthropic: message_delta usage is cumulative and replaces message_start counts', () => {
    const body = [
      'event: message_start',
      'data: {"type":"message_start","message":{"model":"claude-opus-4-6","usage":{"input_tokens":100,"output_tokens":1}}}',
      '',
      'event: message_delta',
      'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":40}}',
      '',
      'event: message_delta',
      'data: {"type":"message_delta","delta":{},"usage":{"output_tokens":55}}',
      '',
      '',
    ].join('\n');
    assert.deepEqual(measureBody('anthropic-messages', 'text/event-stream', body), {
      model: 'claude-opus-4-6',
      inputTokens: 100,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 55,
    });
  });

  test('OpenAI Responses: an incomplete response still reports its usage', () => {
    const body =
      'event: response.incomplete\ndata: {"type":"response.incomplete","response":{"model":"gpt-5","usage":{"input_tokens":10,"output_tokens":4}}}\n\n';
    assert.equal(measureBody('openai-responses', 'text/event-stream', body)?.outputTokens, 4);
  });

  test('Gemini without alt=sse: one JSON array of chunks, the last usage wins', () => {
    const body = JSON.stringify([
      { usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 }, modelVersion: 'gemini-2.5-flash' },
      { usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 9, thoughtsTokenCount: 2 } },
    ]);
    assert.deepEqual(measureBody('gemini', 'application/json', body), {
      model: 'gemini-2.5-flash',
      inputTokens: 5,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 11,
    });
  });

  test('a streamed chat completion without a usage chunk, or a body with no usage, reports none', () => {
    const noUsage = MODEL_STREAMS.chatSse.body
      .toString('utf8')
      .split('\n\n')
      .filter((e) => !e.includes('"usage":{'))
      .join('\n\n');
    assert.equal(measureBody('openai-chat', 'text/event-stream', noUsage), undefined);
    assert.equal(measureBody('anthropic-messages', 'application/json', '{"type":"error"}'), undefined);
    assert.equal(measureBody('gemini', 'application/json', 'not json'), undefined);
  });

  test('usage-shaped text inside a message does not count', () => {
    const body =
      'data: {"choices":[{"delta":{"content":"\\"usage\\": {\\"prompt_tokens\\": 999}"}}],"usage":null}\n\ndata: [DONE]\n\n';
    assert.equal(measureBody('openai-chat', 'text/event-stream', body), undefined);
  });

  test('the meter never throws on garbage', () => {
    const meter = createMeter('anthropic-messages', 'text/event-stream');
    meter.write(Buffer.from('event: message_start\ndata: {not json\n\n\u0000\u00ff'));
    assert.equal(meter.end(), undefined);
  });
});

describe('upstreams that compress anyway, and responses without usage', () => {
  test('a gzip body (despite accept-encoding: identity) is metered from a decoded copy', () => {
    const stream = MODEL_STREAMS.anthropicSse;
    const zipped = gzipSync(stream.body);
    const meter = decodingMeter(stream.protocol, stream.contentType, 'gzip');
    for (let i = 0; i < zipped.byteLength; i += 100) meter.write(zipped.subarray(i, i + 100));
    assert.deepEqual(meter.end(), stream.expected);
    const unknown = decodingMeter(stream.protocol, stream.contentType, 'zstd');
    unknown.write(zipped);
    assert.equal(unknown.end(), undefined);
  });

  test('the estimate is about 4 bytes per token, rounded up', () => {
    assert.deepEqual(estimateUsage(4001, 9), {
      inputTokens: 1001,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 3,
    });
  });
});

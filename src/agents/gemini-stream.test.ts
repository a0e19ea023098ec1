import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { streamFixture } from '../../test/kit/agent-streams.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from '../sandbox/lines.js';
import { describeGeminiError } from './gemini.js';
import { parseGeminiStream } from './gemini-stream.js';

const fixture = (name: string) => streamFixture(`gemini-${name}`);

/** What the recorded CLI reported itself, read independently of the parser. */
function recorded(lines: string[]) {
  const events = lines.map((l) => JSON.parse(l) as Record<string, any>);
  const init = events.find((e) => e.type === 'init')!;
  const result = events.find((e) => e.type === 'result')!;
  const write = events.find((e) => e.type === 'tool_use' && e.tool_name === 'write_file');
  return { init, result, write };
}

function parse(lines: string[], checkoutDir?: string) {
  const { events, outcome } = parseGeminiStream(lines, checkoutDir ? { checkoutDir } : {});
  return { events, result: outcome };
}

describe('GeminiStreamParser on recorded Gemini CLI 0.61 output', () => {
  it('maps a successful edit: session, tool calls with short details, the answer, usage, the summary', () => {
    const lines = fixture('edit');
    const { init, result: stats, write } = recorded(lines);
    const checkoutDir = dirname(dirname(write!.parameters.file_path));
    const { events, result } = parse(lines, checkoutDir);
    const usage = { inputTokens: stats.stats.input_tokens, outputTokens: stats.stats.output_tokens };
    assert.deepEqual(events, [
      { type: 'session', sessionId: init.session_id },
      { type: 'tool', name: 'write_file', detail: 'src/greeting.txt' },
      { type: 'tool', name: 'run_shell_command', detail: 'ls src > listing.txt' },
      { type: 'message', text: 'Added src/greeting.txt and listed src/ into listing.txt.' },
      { type: 'usage', usage },
      { type: 'summary', text: 'Added src/greeting.txt and listed src/ into listing.txt.' },
    ]);
    assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0);
    assert.deepEqual(result, {
      sessionId: init.session_id,
      model: 'gemini-2.5-pro',
      usage,
      summary: 'Added src/greeting.txt and listed src/ into listing.txt.',
      status: 'success',
    });
  });

  it('keeps the session id of a resumed turn and summarizes only that turn', () => {
    const edit = recorded(fixture('edit'));
    const { events, result } = parse(fixture('resume'));
    assert.equal(result.sessionId, edit.init.session_id);
    assert.equal(result.summary, 'Appended to listing.txt.');
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [{ type: 'tool', name: 'run_shell_command', detail: 'echo resumed >> listing.txt' }],
    );
    assert.equal(result.status, 'success');
  });

  it('reports the API error of a failed run and no summary', () => {
    const { events, result } = parse(fixture('error'));
    assert.equal(result.status, 'error');
    assert.match(result.error!, /^\[API Error: .*401.*invalid authentication credentials/);
    assert.equal(result.summary, undefined);
    assert.deepEqual(
      events.map((e) => e.type),
      ['session', 'usage'],
    );
    assert.deepEqual(describeGeminiError(result.error!), {
      text: 'the model API answered 401 UNAUTHENTICATED: Request had invalid authentication credentials.',
      status: 401,
    });
  });
});

describe('GeminiStreamParser on odd input', () => {
  it('ignores unknown events, non-JSON lines, user messages and tool results', () => {
    const { events } = parse([
      'Warning: 256-color support not detected.',
      '{"type":"telemetry","x":1}',
      '[1,2]',
      '{"type":"message","role":"user","content":"do it"}',
      '{"type":"tool_result","tool_id":"t","status":"error","error":{"message":"nope"}}',
      '{"type":"init","session_id":"s-1","model":"m"}',
      '{not json',
    ]);
    assert.deepEqual(events, [{ type: 'session', sessionId: 's-1' }]);
  });

  it('splits assistant text into one message per run between tool calls; the last run is the summary', () => {
    const { events, result } = parse([
      '{"type":"message","role":"assistant","content":"Let me ","delta":true}',
      '{"type":"message","role":"assistant","content":"look.","delta":true}',
      '{"type":"tool_use","tool_name":"read_file","tool_id":"1","parameters":{"file_path":"a.ts"}}',
      '{"type":"message","role":"assistant","content":"All fixed.","delta":true}',
    ]);
    assert.deepEqual(events, [
      { type: 'message', text: 'Let me look.' },
      { type: 'tool', name: 'read_file', detail: 'a.ts' },
      { type: 'message', text: 'All fixed.' },
      { type: 'summary', text: 'All fixed.' },
    ]);
    assert.equal(result.status, undefined, 'no result event: the stream ended early');
  });

  it('falls back to an error event when a run ends without a result', () => {
    const { result } = parse([
      '{"type":"error","severity":"warning","message":"slow"}',
      '{"type":"error","severity":"error","message":"Quota exceeded"}',
    ]);
    assert.equal(result.error, 'Quota exceeded');
  });

  it('reads a tool call cut at the line cap (name and path), and keeps the start of cut text', () => {
    const huge = 'x'.repeat(DEFAULT_MAX_LINE_BYTES * 2);
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    splitter.push(
      `${JSON.stringify({ type: 'tool_use', tool_name: 'write_file', tool_id: '1', parameters: { file_path: 'big.txt', content: huge } })}\n`,
    );
    splitter.push(
      `${JSON.stringify({ type: 'message', role: 'assistant', content: `Done ${huge}`, delta: true })}\n`,
    );
    splitter.push('{"type":"result","status":"success","stats":{"input_tokens":5,"output_tokens":2}}\n');
    splitter.end();
    assert.equal(lines.length, 3);
    const { events, result } = parse(lines);
    assert.deepEqual(events[0], { type: 'tool', name: 'write_file', detail: 'big.txt' });
    assert.equal(events[1]?.type, 'message');
    assert.ok(result.summary?.startsWith('Done xxx') && result.summary.endsWith('…'));
    assert.ok(result.summary!.length < DEFAULT_MAX_LINE_BYTES);
    assert.deepEqual(result.usage, { inputTokens: 5, outputTokens: 2 });
  });
});

describe('describeGeminiError', () => {
  it('reads Google error bodies, also inside an array, and plain messages', () => {
    assert.deepEqual(
      describeGeminiError(
        '[API Error: [{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}]]',
      ),
      { text: 'the model API answered 429 RESOURCE_EXHAUSTED: Resource exhausted', status: 429 },
    );
    assert.deepEqual(describeGeminiError('fetch failed'), { text: 'fetch failed' });
    assert.deepEqual(describeGeminiError('[API Error: got status: 503 Service Unavailable]'), {
      text: '[API Error: got status: 503 Service Unavailable]',
      status: 503,
    });
  });
});

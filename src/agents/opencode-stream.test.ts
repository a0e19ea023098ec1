import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamFixture } from '../../test/kit/agent-streams.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from '../sandbox/lines.js';
import { parseOpenCodeStream } from './opencode-stream.js';

const fixture = (name: string) => streamFixture(`opencode-${name}`);

function parse(lines: string[], checkoutDir?: string) {
  const { events, outcome } = parseOpenCodeStream(lines, checkoutDir ? { checkoutDir } : {});
  return { events, result: outcome };
}

/** Token totals as the recorded step_finish events state them, summed independently of the parser. */
function recordedUsage(lines: string[]) {
  let input = 0;
  let output = 0;
  for (const event of lines.map((l) => JSON.parse(l) as Record<string, any>)) {
    if (event.type !== 'step_finish') continue;
    const t = event.part.tokens;
    input += t.input + t.cache.read + t.cache.write;
    output += t.output + t.reasoning;
  }
  return { inputTokens: input, outputTokens: output };
}

describe('OpenCodeStreamParser on recorded OpenCode 1.18 output', () => {
  it('maps a successful edit: session, tool calls, running usage, the answer and the summary', () => {
    const lines = fixture('edit');
    const sessionId = (JSON.parse(lines[0]!) as { sessionID: string }).sessionID;
    const { events, result } = parse(lines);
    const usage = recordedUsage(lines);
    assert.deepEqual(events[0], { type: 'session', sessionId });
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [
        // The default model (gpt-5) gets OpenCode's apply_patch instead of write/edit.
        { type: 'tool', name: 'apply_patch', detail: 'src/greeting.txt' },
        { type: 'tool', name: 'bash', detail: 'ls src > listing.txt' },
      ],
    );
    const usages = events.filter((e) => e.type === 'usage');
    assert.equal(usages.length, 3, 'one per model step');
    assert.deepEqual(usages.at(-1), { type: 'usage', usage });
    assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0);
    assert.deepEqual(events.slice(-3), [
      { type: 'message', text: 'Added src/greeting.txt and listed src/ into listing.txt.' },
      { type: 'usage', usage },
      { type: 'summary', text: 'Added src/greeting.txt and listed src/ into listing.txt.' },
    ]);
    assert.deepEqual(result, {
      sessionId,
      usage,
      summary: 'Added src/greeting.txt and listed src/ into listing.txt.',
      finishReason: 'stop',
    });
  });

  it('continues the same session on a resumed turn', () => {
    const first = (JSON.parse(fixture('edit')[0]!) as { sessionID: string }).sessionID;
    const lines = fixture('resume');
    const { events, result } = parse(lines);
    assert.equal(result.sessionId, first);
    assert.equal(result.summary, 'Appended to listing.txt.');
    assert.deepEqual(result.usage, recordedUsage(lines));
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [{ type: 'tool', name: 'bash', detail: 'echo resumed >> listing.txt' }],
    );
  });

  it('reports a refused model call with its HTTP status', () => {
    const { events, result } = parse(fixture('error'));
    assert.equal(result.error, 'Incorrect API key provided.');
    assert.equal(result.apiErrorStatus, 401);
    assert.equal(result.summary, undefined);
    assert.deepEqual(
      events.map((e) => e.type),
      ['session'],
    );
  });
});

describe('OpenCodeStreamParser on odd input', () => {
  it('ignores unknown events and non-JSON lines; reasoning is not a message', () => {
    const { events } = parse([
      '!  permission requested: bash (rm -rf /); auto-rejecting',
      '{"type":"reasoning","sessionID":"ses_1","part":{"type":"reasoning","text":"hmm"}}',
      '{"type":"future_event","sessionID":"ses_1"}',
      '{"type":"step_start","sessionID":"ses_1","part":{}}',
    ]);
    assert.deepEqual(events, [{ type: 'session', sessionId: 'ses_1' }]);
  });

  it('summarizes the text after the last tool call; earlier text only when nothing follows', () => {
    const text = (t: string) =>
      JSON.stringify({ type: 'text', sessionID: 's', part: { type: 'text', text: t } });
    const tool = JSON.stringify({
      type: 'tool_use',
      sessionID: 's',
      part: {
        type: 'tool',
        tool: 'read',
        state: { status: 'completed', input: { filePath: '/w/src/a.ts' }, title: 'src/a.ts' },
      },
    });
    assert.equal(
      parse([text('Looking.'), tool, text('Fixed it.'), text('Tests pass.')]).result.summary,
      'Fixed it.\n\nTests pass.',
    );
    assert.equal(parse([text('Plan: edit a.ts'), tool]).result.summary, 'Plan: edit a.ts');
    assert.deepEqual(parse([tool], '/w').events[1], { type: 'tool', name: 'read', detail: 'src/a.ts' });
  });

  it('adds cached and reasoning tokens back and sums steps; cost only when known', () => {
    const step = (tokens: object, cost: number) =>
      JSON.stringify({ type: 'step_finish', sessionID: 's', part: { reason: 'stop', tokens, cost } });
    const { result } = parse([
      step({ input: 100, output: 10, reasoning: 5, cache: { read: 50, write: 7 } }, 0.002),
      step({ input: 20, output: 1, reasoning: 0, cache: { read: 0, write: 0 } }, 0.0005),
    ]);
    assert.deepEqual(result.usage, { inputTokens: 177, outputTokens: 16, costUsd: 0.0025 });
    assert.deepEqual(parse([step({ input: 1, output: 1 }, 0)]).result.usage, {
      inputTokens: 1,
      outputTokens: 1,
    });
  });

  it('reads lines cut at the line cap: the tool with its path, the start of the text', () => {
    const huge = 'y'.repeat(DEFAULT_MAX_LINE_BYTES * 2);
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    const write = {
      type: 'tool',
      tool: 'write',
      state: { status: 'completed', input: { filePath: '/w/big', content: huge } },
    };
    splitter.push(`${JSON.stringify({ type: 'tool_use', sessionID: 'ses_9', part: write })}\n`);
    splitter.push(
      `${JSON.stringify({ type: 'text', sessionID: 'ses_9', part: { type: 'text', text: `Wrote ${huge}` } })}\n`,
    );
    splitter.end();
    const { events, result } = parse(lines, '/w');
    assert.deepEqual(events.slice(0, 2), [
      { type: 'session', sessionId: 'ses_9' },
      { type: 'tool', name: 'write', detail: 'big' },
    ]);
    assert.ok(result.summary?.startsWith('Wrote yyy') && result.summary.endsWith('…'));
  });

  it('names the error when OpenCode gives no message', () => {
    assert.equal(
      parse(['{"type":"error","sessionID":"s","error":{"name":"MessageAbortedError","data":{}}}']).result
        .error,
      'MessageAbortedError',
    );
  });
});

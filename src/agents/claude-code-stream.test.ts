/**
 * The Claude Code stream parser on output recorded from the real CLI (2.1.330, see
 * test/kit/record-agent-streams.ts), and on the ways a stream goes wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamFixture } from '../../test/kit/agent-streams.js';
import { LineSplitter } from '../sandbox/lines.js';
import { ClaudeCodeStreamParser, parseClaudeCodeStream, toolDetail } from './claude-code-stream.js';

const fixture = (name: string) => streamFixture(`claude-code-${name}`);
// biome-ignore lint/suspicious/noExplicitAny: recorded CLI events are read loosely in assertions.
const json = (line: string | undefined) => JSON.parse(line ?? 'null') as Record<string, any>;

describe('Claude Code stream parser, on recorded output', () => {
  it('maps a successful edit: session, tool calls with short details, the answer, usage and summary', () => {
    const lines = fixture('edit');
    const init = json(lines[0]);
    const result = json(lines.at(-1));
    const { events, outcome } = parseClaudeCodeStream(lines);
    const summary = 'Added src/greeting.txt and listed src/ into listing.txt.';
    const usage = {
      inputTokens:
        result.usage.input_tokens +
        result.usage.cache_creation_input_tokens +
        result.usage.cache_read_input_tokens,
      outputTokens: result.usage.output_tokens,
      costUsd: result.total_cost_usd,
    };
    assert.deepEqual(events, [
      { type: 'session', sessionId: init.session_id },
      { type: 'tool', name: 'Write', detail: 'src/greeting.txt' },
      { type: 'tool', name: 'Bash', detail: 'ls src > listing.txt' },
      { type: 'message', text: summary },
      { type: 'usage', usage },
      { type: 'summary', text: summary },
    ]);
    assert.deepEqual(outcome, {
      finished: true,
      sessionNotFound: false,
      skippedLines: 0,
      truncatedLines: 0,
      sessionId: init.session_id,
      summary,
      usage,
    });
  });

  it('reports a resumed run with its own cost, not the session total', () => {
    const edit = parseClaudeCodeStream(fixture('edit')).outcome;
    const lines = fixture('resume');
    const result = json(lines.at(-1));
    const { events, outcome } = parseClaudeCodeStream(lines);
    assert.equal(outcome.sessionId, edit.sessionId);
    assert.equal(outcome.summary, 'Appended to listing.txt.');
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [{ type: 'tool', name: 'Bash', detail: 'echo resumed >> listing.txt' }],
    );
    const sinceLast = Object.values(
      result.model_usage_since_last_result as Record<string, { costUSD: number }>,
    );
    assert.equal(outcome.usage?.costUsd, sinceLast[0]?.costUSD);
    // total_cost_usd adds up the whole session: this run's cost plus the edit's.
    assert.ok(
      Math.abs(result.total_cost_usd - (outcome.usage?.costUsd ?? 0) - (edit.usage?.costUsd ?? 0)) < 1e-9,
    );
    assert.equal(outcome.usage?.inputTokens, result.usage.input_tokens);
  });

  it('turns an API refusal into an error with its HTTP status, and no message or summary', () => {
    const { events, outcome } = parseClaudeCodeStream(fixture('error'));
    assert.equal(outcome.finished, true);
    assert.equal(outcome.error, 'Invalid API key · Fix external API key');
    assert.equal(outcome.apiErrorStatus, 401);
    assert.equal(outcome.summary, undefined);
    assert.ok(outcome.sessionId);
    // The synthetic "assistant" message carrying the API error is not the agent speaking.
    assert.deepEqual(
      events.map((e) => e.type),
      ['session', 'usage'],
    );
  });
});

describe('Claude Code stream parser, on broken streams', () => {
  it('skips blank, foreign and unknown lines and keeps going', () => {
    const lines = fixture('edit');
    const noisy = [
      '',
      'Warning: something printed by a wrapper',
      '[1,2,3]',
      '{"type":"stream_event","event":{"type":"content_block_delta"}}',
      '{"type":"system","subtype":"hook_response"}',
      ...lines,
      '{"type":"brand_new_event","payload":{}}',
    ];
    const { events, outcome } = parseClaudeCodeStream(noisy);
    assert.deepEqual(events, parseClaudeCodeStream(lines).events);
    assert.equal(outcome.skippedLines, 2);
    assert.equal(outcome.finished, true);
  });

  it('reads lines cut at the sandbox line cap: a large Write keeps its tool event, a long answer its usage', () => {
    const lines = fixture('edit');
    const inflate = (line: string) => {
      const event = json(line);
      for (const block of event.message?.content ?? []) {
        if (block.name === 'Write') block.input.content = 'y'.repeat(200_000);
        if (block.type === 'text') block.text = `${block.text} ${'z'.repeat(200_000)}`;
      }
      if (event.type === 'result') event.result = `${event.result} ${'z'.repeat(200_000)}`;
      return JSON.stringify(event);
    };
    // Through the sandbox's own LineSplitter with its default 64 KiB cap.
    const cut: string[] = [];
    const splitter = new LineSplitter((line) => cut.push(line));
    splitter.push(`${lines.map(inflate).join('\n')}\n`);
    splitter.end();
    const parser = new ClaudeCodeStreamParser();
    const events = cut.flatMap((line) => parser.push(line));
    const outcome = parser.outcome();
    assert.equal(outcome.truncatedLines, 3);
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [
        { type: 'tool', name: 'Write', detail: 'src/greeting.txt' },
        { type: 'tool', name: 'Bash', detail: 'ls src > listing.txt' },
      ],
    );
    assert.equal(outcome.finished, true);
    assert.equal(outcome.usage?.outputTokens, json(lines.at(-1)).usage.output_tokens);
    assert.ok(outcome.summary?.startsWith('Added src/greeting.txt and listed src/ into listing.txt. zzz'));
    assert.ok(outcome.summary?.endsWith('…'));
    assert.ok((outcome.summary?.length ?? 0) < 70_000);
  });

  it('without a result line the run did not finish; the session id is still known', () => {
    const lines = fixture('edit').slice(0, -1);
    const { outcome } = parseClaudeCodeStream(lines);
    assert.equal(outcome.finished, false);
    assert.equal(outcome.summary, undefined);
    assert.equal(outcome.usage, undefined);
    assert.ok(outcome.sessionId);
  });

  it('recognizes a resume of a session the home does not have', () => {
    // Shape of `claude -p --resume <unknown id>` output (2.1.330): no init, one error result.
    const { outcome } = parseClaudeCodeStream([
      JSON.stringify({
        type: 'result',
        subtype: 'error_during_execution',
        is_error: true,
        num_turns: 0,
        session_id: '11111111-2222-3333-4444-555555555555',
        total_cost_usd: 0,
        usage: { input_tokens: 0, output_tokens: 0 },
        errors: ['No conversation found with session ID: 11111111-2222-3333-4444-555555555555'],
      }),
    ]);
    assert.equal(outcome.sessionNotFound, true);
    assert.match(outcome.error ?? '', /No conversation found/);
  });

  it('names the limit an error result hit when it has no text', () => {
    const { outcome } = parseClaudeCodeStream([
      JSON.stringify({
        type: 'result',
        subtype: 'error_max_turns',
        is_error: true,
        session_id: 's-1',
        usage: {},
      }),
    ]);
    assert.equal(outcome.error, 'it reached its maximum number of turns');
  });

  it('shows tool calls of subagents but not their text', () => {
    const parser = new ClaudeCodeStreamParser();
    const events = parser.push(
      JSON.stringify({
        type: 'assistant',
        parent_tool_use_id: 'toolu_parent',
        session_id: 's-1',
        message: {
          content: [
            { type: 'text', text: 'subagent thinking aloud' },
            { type: 'tool_use', name: 'Grep', input: { pattern: 'TODO' } },
          ],
        },
      }),
    );
    assert.deepEqual(events, [
      { type: 'session', sessionId: 's-1' },
      { type: 'tool', name: 'Grep', detail: 'TODO' },
    ]);
  });
});

describe('toolDetail', () => {
  it('picks the telling argument of each tool, relative paths, one short line', () => {
    assert.equal(toolDetail('Read', { file_path: '/repo/src/a.ts' }, '/repo'), 'src/a.ts');
    assert.equal(toolDetail('Edit', { file_path: '/elsewhere/a.ts' }, '/repo'), '/elsewhere/a.ts');
    assert.equal(toolDetail('Bash', { command: 'npm ci\nnpm test' }), 'npm ci …');
    assert.equal(toolDetail('WebFetch', { url: 'https://example.com' }), 'https://example.com');
    assert.equal(toolDetail('TodoWrite', { todos: [{}, {}] }), '2 items');
    assert.equal(toolDetail('Bash', { command: 'x'.repeat(500) })?.length, 120);
    assert.equal(toolDetail('Mystery', {}), undefined);
    assert.equal(toolDetail('Bash', 'not an object'), undefined);
  });
});

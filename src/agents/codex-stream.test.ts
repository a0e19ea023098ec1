/**
 * The Codex stream parser on output recorded from the real CLI (0.169.0, see
 * test/kit/record-agent-streams.ts), and on the ways a stream goes wrong.
 */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { streamFixture } from '../../test/kit/agent-streams.js';
import { LineSplitter } from '../sandbox/lines.js';
import { CodexStreamParser, parseCodexStream, unwrapShell } from './codex-stream.js';

const fixture = (name: string) => streamFixture(`codex-${name}`);
// biome-ignore lint/suspicious/noExplicitAny: recorded CLI events are read loosely in assertions.
const json = (line: string | undefined) => JSON.parse(line ?? 'null') as Record<string, any>;
const find = (lines: string[], type: string) => json(lines.find((l) => json(l).type === type));

describe('Codex stream parser, on recorded output', () => {
  it('maps a successful edit: session, tool calls with short details, the answer, usage and summary', () => {
    const lines = fixture('edit');
    const thread = find(lines, 'thread.started');
    const { usage } = find(lines, 'turn.completed');
    // The checkout the recording ran in: file paths are shown relative to it.
    const changed = json(lines.find((l) => json(l).item?.type === 'file_change')).item.changes[0]
      .path as string;
    const cwd = dirname(dirname(changed));
    const { events, outcome } = parseCodexStream(lines, { cwd });
    const summary = 'Added src/greeting.txt and listed src/ into listing.txt.';
    const runUsage = { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens };
    assert.deepEqual(events, [
      { type: 'session', sessionId: thread.thread_id },
      { type: 'tool', name: 'edit', detail: 'src/greeting.txt' },
      { type: 'tool', name: 'shell', detail: 'ls src > listing.txt' },
      { type: 'message', text: summary },
      { type: 'usage', usage: runUsage },
      { type: 'summary', text: summary },
    ]);
    assert.deepEqual(outcome, {
      finished: true,
      warnings: [],
      skippedLines: 0,
      truncatedLines: 0,
      sessionId: thread.thread_id,
      summary,
      usage: runUsage,
      sessionUsage: runUsage,
    });
    // Without the checkout path the absolute path is shown.
    assert.deepEqual(parseCodexStream(lines).events[1], { type: 'tool', name: 'edit', detail: changed });
  });

  it('reports a resumed run as the difference of the running totals Codex prints', () => {
    const edit = parseCodexStream(fixture('edit')).outcome;
    const lines = fixture('resume');
    const { usage } = find(lines, 'turn.completed');
    const { events, outcome } = parseCodexStream(lines, {
      ...(edit.sessionUsage ? { usageBefore: edit.sessionUsage } : {}),
    });
    assert.equal(outcome.sessionId, edit.sessionId);
    assert.equal(outcome.summary, 'Appended to listing.txt.');
    assert.deepEqual(
      events.filter((e) => e.type === 'tool'),
      [{ type: 'tool', name: 'shell', detail: 'echo resumed >> listing.txt' }],
    );
    assert.deepEqual(outcome.sessionUsage, {
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
    });
    assert.deepEqual(outcome.usage, {
      inputTokens: usage.input_tokens - (edit.sessionUsage?.inputTokens ?? 0),
      outputTokens: usage.output_tokens - (edit.sessionUsage?.outputTokens ?? 0),
    });
    assert.ok((outcome.usage?.inputTokens ?? 0) > 0);
    // A baseline above the totals is stale (another session): the totals are reported as they are.
    const stale = parseCodexStream(lines, { usageBefore: { inputTokens: 10 ** 9, outputTokens: 0 } }).outcome;
    assert.deepEqual(stale.usage, stale.sessionUsage);
  });

  it('turns a failed turn into an error with its HTTP status, after the retries', () => {
    const { events, outcome } = parseCodexStream(fixture('error'));
    assert.equal(outcome.finished, false);
    assert.match(outcome.error ?? '', /^unexpected status 401 Unauthorized: Incorrect API key provided\./);
    assert.equal(outcome.apiErrorStatus, 401);
    assert.equal(outcome.summary, undefined);
    assert.equal(outcome.usage, undefined);
    assert.deepEqual(
      events.map((e) => e.type),
      ['session'],
    );
  });
});

describe('Codex stream parser, on broken streams', () => {
  it('skips blank, foreign and unknown lines and keeps going', () => {
    const lines = fixture('edit');
    const noisy = [
      '',
      'WARNING: proceeding, even though …',
      '"a string"',
      ...lines,
      '{"type":"turn.new_kind"}',
    ];
    const { events, outcome } = parseCodexStream(noisy);
    assert.deepEqual(events, parseCodexStream(lines).events);
    assert.equal(outcome.skippedLines, 2);
  });

  it('reads lines cut at the sandbox line cap: a long answer keeps its beginning', () => {
    const lines = fixture('edit').map((line) => {
      const event = json(line);
      if (event.item?.type === 'agent_message') event.item.text = `${event.item.text} ${'z'.repeat(200_000)}`;
      if (event.type === 'item.completed' && event.item?.type === 'command_execution') {
        event.item.aggregated_output = 'o'.repeat(200_000);
      }
      return JSON.stringify(event);
    });
    const cut: string[] = [];
    const splitter = new LineSplitter((line) => cut.push(line));
    splitter.push(`${lines.join('\n')}\n`);
    splitter.end();
    const parser = new CodexStreamParser();
    const events = cut.flatMap((line) => parser.push(line));
    const outcome = parser.outcome();
    assert.equal(outcome.truncatedLines, 2);
    assert.deepEqual(
      events.filter((e) => e.type === 'tool').map((e) => e.type === 'tool' && e.name),
      ['edit', 'shell'],
    );
    assert.ok(outcome.summary?.startsWith('Added src/greeting.txt and listed src/ into listing.txt. zzz'));
    assert.ok(outcome.summary?.endsWith('…'));
    assert.equal(outcome.finished, true);
  });

  it('unwraps JSON error bodies and keeps non-fatal notices as warnings', () => {
    const parser = new CodexStreamParser();
    // Shapes from codex 0.169 against an API answering 400, and with a model it has no metadata for.
    parser.push('{"type":"thread.started","thread_id":"t-1"}');
    parser.push(
      '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `x` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}',
    );
    parser.push('{"type":"turn.started"}');
    parser.push(
      '{"type":"error","message":"{\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"invalid_request_error\\",\\"message\\":\\"model not supported\\"}}"}',
    );
    parser.push(
      '{"type":"turn.failed","error":{"message":"{\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"invalid_request_error\\",\\"message\\":\\"model not supported\\"}}"}}',
    );
    const outcome = parser.outcome();
    assert.equal(outcome.error, 'model not supported');
    assert.deepEqual(outcome.warnings, [
      'Model metadata for `x` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.',
    ]);
  });

  it('reports each tool once, at its start or else at its end; MCP and web search too', () => {
    const parser = new CodexStreamParser();
    const events = [
      '{"type":"item.started","item":{"id":"a","type":"command_execution","command":"bash -lc \'make\'"}}',
      '{"type":"item.completed","item":{"id":"a","type":"command_execution","command":"bash -lc \'make\'","exit_code":0}}',
      '{"type":"item.completed","item":{"id":"b","type":"mcp_tool_call","server":"docs","tool":"search","status":"completed"}}',
      '{"type":"item.completed","item":{"id":"c","type":"web_search","query":"node 20 release notes"}}',
      '{"type":"item.completed","item":{"id":"d","type":"reasoning","text":"thinking"}}',
      '{"type":"item.started","item":{"id":"e","type":"agent_message","text":"partial"}}',
    ].flatMap((line) => parser.push(line));
    assert.deepEqual(events, [
      { type: 'tool', name: 'shell', detail: 'make' },
      { type: 'tool', name: 'mcp:docs/search' },
      { type: 'tool', name: 'web_search', detail: 'node 20 release notes' },
    ]);
  });
});

describe('unwrapShell', () => {
  it('shows the command inside the shell wrapper Codex reports', () => {
    assert.equal(unwrapShell("/bin/bash -lc 'npm test'"), 'npm test');
    assert.equal(unwrapShell("bash -c 'echo '\\''hi'\\'''"), "echo 'hi'");
    assert.equal(unwrapShell('/usr/bin/zsh -lc "echo \\"x\\""'), 'echo "x"');
    assert.equal(unwrapShell('sh -c ls'), 'ls');
    assert.equal(unwrapShell('make -j4'), 'make -j4');
  });
});

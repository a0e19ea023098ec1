import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRUNCATED_MARKER } from '../sandbox/lines.js';
import { LOG_LINE_MAX_CHARS, LogBuffer } from './log-buffer.js';

test('lines are written in batches, and a line of megabytes keeps only its start', async () => {
  const writes: string[][] = [];
  const buffer = new LogBuffer(async (batch) => {
    writes.push(batch);
  }, 10_000);
  buffer.push('first');
  buffer.push(`{"type":"tool_use","input":"${'x'.repeat(4 * 1024 * 1024)}"}`);
  buffer.push('last');
  await buffer.flush();
  assert.equal(writes.length, 1, 'one write for the burst');
  const [first, big, last] = writes[0]!;
  assert.equal(first, 'first');
  assert.equal(last, 'last');
  assert.equal(big!.length, LOG_LINE_MAX_CHARS + TRUNCATED_MARKER.length);
  assert.ok(big!.startsWith('{"type":"tool_use"'));
  assert.ok(big!.endsWith(TRUNCATED_MARKER));
});

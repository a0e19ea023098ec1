import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, TRUNCATED_MARKER } from './lines.js';

function split(chunks: (string | Buffer)[], maxBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxBytes);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('splits on \\n, strips \\r before it and flushes a partial last line', () => {
    assert.deepEqual(split(['a\nb\r\n', 'c']), ['a', 'b', 'c']);
  });

  it('keeps empty lines but adds none for a trailing newline', () => {
    assert.deepEqual(split(['a\n\nb\n']), ['a', '', 'b']);
    assert.deepEqual(split([]), []);
  });

  it('joins lines and \\r\\n split across chunks', () => {
    assert.deepEqual(split(['he', 'llo\r', '\nwor', 'ld\n']), ['hello', 'world']);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('héllo 🙂\n');
    assert.deepEqual(split([bytes.subarray(0, 2), bytes.subarray(2, 8), bytes.subarray(8)]), ['héllo 🙂']);
  });

  it('caps a giant line without cutting a character and resumes at the next line', () => {
    const lines = split(['ab', 'é'.repeat(10), 'xyz\nnext\n'], 5);
    // 'ab' + 'é' (2 bytes) = 4 bytes; the next 'é' would straddle the 5-byte cap.
    assert.deepEqual(lines, [`abé${TRUNCATED_MARKER}`, 'next']);
  });

  it('marks a truncated final line without newline', () => {
    assert.deepEqual(split(['x'.repeat(20)], 8), [`${'x'.repeat(8)}${TRUNCATED_MARKER}`]);
  });
});

/** Reading the CLIs' JSON lines, also lines cut at the sandbox's line cap, and tool details. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, TRUNCATED_MARKER } from '../sandbox/lines.js';
import { clipDetail, count, parseJsonPrefix, readJsonLine, toolDetail } from './stream-lines.js';

describe('parseJsonPrefix', () => {
  it('reads as much of a cut JSON text as is whole, keeping cut strings', () => {
    assert.deepEqual(parseJsonPrefix('{"a":1,"b":[true,null,"x"],"c":{"d":"hel'), {
      a: 1,
      b: [true, null, 'x'],
      c: { d: 'hel…' },
    });
    assert.deepEqual(parseJsonPrefix('{"n":12'), {}, 'a number at the cut may be incomplete');
    assert.deepEqual(parseJsonPrefix('{"k'), {});
    assert.deepEqual(parseJsonPrefix('{"s":"a\\n\\u00e9\\'), { s: 'a\né…' });
    assert.deepEqual(parseJsonPrefix('[1,2,'), [1, 2]);
    assert.deepEqual(parseJsonPrefix('{"whole":{"x":1}}'), { whole: { x: 1 } });
    assert.equal(parseJsonPrefix('Error: not json'), undefined);
    assert.equal(parseJsonPrefix(''), undefined);
  });
});

describe('readJsonLine', () => {
  it('reads whole lines as objects and nothing else', () => {
    assert.deepEqual(readJsonLine(' {"type":"x","n":1} '), { event: { type: 'x', n: 1 }, truncated: false });
    for (const line of ['', 'Warning: x', '[1,2]', '{not json', '"s"', '{"a":1} trailing'])
      assert.equal(readJsonLine(line), undefined, line);
  });

  it('reads a line the LineSplitter cut as far as it went', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 100);
    splitter.push(
      `${JSON.stringify({ type: 'tool_use', name: 'Write', input: { path: 'a.txt', content: 'y'.repeat(500) } })}\n`,
    );
    splitter.end();
    assert.ok(lines[0]?.endsWith(TRUNCATED_MARKER));
    const read = readJsonLine(lines[0]!);
    assert.ok(read);
    assert.equal(read.truncated, true);
    assert.equal(read.event.type, 'tool_use');
    const input = read.event.input as { path: string; content: string };
    assert.deepEqual(Object.keys(input), ['path', 'content']);
    assert.equal(input.path, 'a.txt');
    assert.match(input.content, /^y+…$/);
    assert.equal(readJsonLine(`Some text${TRUNCATED_MARKER}`), undefined);
  });
});

describe('tool details', () => {
  it('are one short line: the first line of a multi-line text, whitespace collapsed', () => {
    assert.equal(clipDetail('npm ci\nnpm test'), 'npm ci …');
    assert.equal(clipDetail('\n  make   all \n\n'), 'make all');
    assert.equal(clipDetail('x'.repeat(300)), `${'x'.repeat(119)}…`);
  });

  it('pick the most telling argument, relative to the checkout, and the files of a patch', () => {
    assert.equal(toolDetail({ command: 'npm test', description: 'Run tests' }), 'npm test');
    assert.equal(toolDetail({ file_path: '/w/src/a.ts', content: 'x' }, '/w/'), 'src/a.ts');
    assert.equal(toolDetail({ filePath: '/elsewhere/a.ts' }, '/w'), '/elsewhere/a.ts');
    assert.equal(
      toolDetail({
        patchText: '*** Begin Patch\n*** Add File: a.txt\n+x\n*** Update File: b/c.ts\n*** End Patch',
      }),
      'a.txt, b/c.ts',
    );
    assert.equal(toolDetail({ content: 'only' }), undefined);
    assert.equal(toolDetail('not an object'), undefined);
  });

  it('count tokens as non-negative integers', () => {
    assert.equal(count(12.6), 13);
    assert.equal(count(-1), 0);
    assert.equal(count('7'), 0);
    assert.equal(count(Number.NaN), 0);
  });
});

#!/usr/bin/env node
// The stand-in coding agent of `npm run demo`. Forge runs it (FORGE_AGENT_COMMAND) in a fresh
// checkout of the demo repository, exactly as it would run a real agent CLI; it reads the prompt
// Forge wrote, makes a small believable edit and writes a summary for the pull request.
//   "fix ... add()"        fixes the bug in src/math.js and adds test/math.test.js
//   "document ... README"  documents add() in README.md
//   anything else          changes nothing and says so
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const prompt = readFileSync(process.env.FORGE_PROMPT_FILE, 'utf8');
const fence = /```+text\n([\s\S]*?)\n```+/.exec(prompt);
const asked = (fence?.[1] ?? '').trim();
const instruction = asked.toLowerCase();
const summary = [];

console.log(`demo agent: ${asked.split('\n')[0]}`);

if (/\b(readme|document)/.test(instruction)) {
  const readme = readFileSync('README.md', 'utf8');
  const section = [
    '## API',
    '',
    '### `add(a, b)`',
    '',
    'Returns the sum of the numbers `a` and `b`. Negative numbers and zero work as expected:',
    '',
    '```js',
    "import { add } from './src/math.js';",
    '',
    'add(2, 3); // 5',
    'add(-2, 3); // 1',
    '```',
    '',
  ].join('\n');
  writeFileSync('README.md', `${readme.trimEnd()}\n\n${section}`);
  console.log('Edited README.md');
  summary.push('Documented `add(a, b)` in the README, with an example using a negative number.');
} else if (/\bfix\b/.test(instruction) && existsSync('src/math.js')) {
  const source = readFileSync('src/math.js', 'utf8');
  // The "fast path" takes the absolute value of negative arguments: drop it.
  const fixed = source
    .split('\n')
    .filter((line) => !/Fast path for small numbers|return Math\.abs\(a\) \+ Math\.abs\(b\)/.test(line))
    .join('\n');
  if (fixed === source) {
    console.log('src/math.js already looks right; nothing to fix.');
  } else {
    writeFileSync('src/math.js', fixed);
    console.log('Edited src/math.js');
    mkdirSync('test', { recursive: true });
    writeFileSync(
      'test/math.test.js',
      [
        "import assert from 'node:assert/strict';",
        "import { test } from 'node:test';",
        "import { add } from '../src/math.js';",
        '',
        "test('add() sums positive numbers', () => {",
        '  assert.equal(add(2, 3), 5);',
        '});',
        '',
        "test('add() handles negative numbers', () => {",
        '  assert.equal(add(-2, 3), 1);',
        '  assert.equal(add(2, -3), -1);',
        '  assert.equal(add(-2, -3), -5);',
        '});',
        '',
      ].join('\n'),
    );
    console.log('Created test/math.test.js');
    // Prove the fix: run the new tests with the same Node that runs this agent (throws if they fail).
    const tap = execFileSync(process.execPath, ['--test', '--test-reporter=tap', 'test/math.test.js'], {
      encoding: 'utf8',
    });
    const count = (name) => new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? '?';
    console.log(`node --test: ${count('pass')} passed, ${count('fail')} failed`);
    summary.push(
      '`add()` took the absolute value of negative arguments (`add(-2, 3)` returned `5`). It now just returns `a + b`.',
      '',
      'Added `test/math.test.js` covering positive and negative numbers; `node --test` passes.',
    );
  }
} else {
  console.log('The demo agent only knows how to fix add() and document it; nothing changed.');
}

if (summary.length > 0 && process.env.FORGE_SUMMARY_FILE) {
  writeFileSync(process.env.FORGE_SUMMARY_FILE, `${summary.join('\n')}\n`);
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigTable } from '../../src/config/table.js';

test('the README configuration table matches the settings the code reads', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
  assert.ok(block, 'README has the configuration table markers');
  assert.equal(block, renderConfigTable(), 'regenerate with: npx tsx scripts/config-table.ts');
});

test('the README gives the two commands and the test command CI runs', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.match(readme, /npm ci && npm run demo/);
  assert.match(readme, /^npm test/m);
  assert.match(readFileSync('.ci/run', 'utf8'), /^npm test$/m);
});

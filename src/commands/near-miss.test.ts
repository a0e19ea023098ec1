import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance, nearestCommand } from './near-miss.js';

test('edit distance counts insertions, deletions, substitutions and neighbour swaps', () => {
  assert.equal(editDistance('status', 'status'), 0);
  assert.equal(editDistance('stauts', 'status'), 1, 'a swap is one edit');
  assert.equal(editDistance('stats', 'status'), 1);
  assert.equal(editDistance('hlep', 'help'), 1);
  assert.equal(editDistance('halp', 'help'), 1);
  assert.equal(editDistance('sotp', 'stop'), 1);
  assert.equal(editDistance('stpo', 'stop'), 1);
  assert.equal(editDistance('aprove', 'approve'), 1);
  assert.equal(editDistance('improve', 'approve'), 2);
  assert.equal(editDistance('test', 'stop'), 3, 'capped at three: "more than two"');
  assert.equal(editDistance('refactor', 'help'), 3);
});

test('the nearest command: itself, a start of three letters or more, or within two edits', () => {
  assert.equal(nearestCommand('STATUS'), 'status');
  assert.equal(nearestCommand('stat'), 'status', 'a prefix beats two edits to stop');
  assert.equal(nearestCommand('sto'), 'stop');
  assert.equal(nearestCommand('addr'), 'address-reviews');
  assert.equal(nearestCommand('stauts'), 'status');
  assert.equal(nearestCommand('plans'), 'plan');
  assert.equal(nearestCommand('halp'), 'help');
  assert.equal(nearestCommand('stpo'), 'stop');
  // Short words two edits from a short command are words, not typos.
  for (const word of ['ship', 'hold', 'plot', 'skip', 'fix', 'bump', 'save']) {
    assert.equal(nearestCommand(word), undefined, word);
  }
  for (const word of ['refactor', 'test', 'lint', 'docs', 'deploy', 'start', 'cleanup', 'x', '']) {
    assert.equal(nearestCommand(word), undefined, word);
  }
  assert.equal(nearestCommand(`sta${'t'.repeat(40)}`), undefined, 'long words are never near-misses');
  assert.equal(nearestCommand('st@tus'), undefined, 'only letters, - and _');
});

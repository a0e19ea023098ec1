import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { branchName, isValidBranchName, slugify } from './branch-name.js';

describe('slugify', () => {
  it('makes ascii lowercase dash slugs of at most 40 characters', () => {
    assert.equal(slugify('Fix: the Login button!! (again)'), 'fix-the-login-button-again');
    assert.equal(slugify('Ünïcödé façade — naïve'), 'unicode-facade-naive');
    assert.equal(slugify('日本語だけ'), '');
    const long = slugify('a very long title that keeps going well past the forty character limit');
    assert.ok(long.length <= 40, long);
    assert.ok(!long.endsWith('-'));
    assert.equal(long, 'a-very-long-title-that-keeps-going-well');
  });
});

describe('branchName', () => {
  it('is forge/<n>-<slug> when free', async () => {
    assert.equal(await branchName(12, 'Add dark mode', async () => false), 'forge/12-add-dark-mode');
  });

  it('falls back to forge/<n> for titles with no ascii', async () => {
    assert.equal(await branchName(7, '🚀🚀', async () => false), 'forge/7');
  });

  it('suffixes -2, -3 … while taken', async () => {
    const taken = new Set(['forge/3-x', 'forge/3-x-2']);
    const asked: string[] = [];
    const name = await branchName(3, 'X', async (n) => {
      asked.push(n);
      return taken.has(n);
    });
    assert.equal(name, 'forge/3-x-3');
    assert.deepEqual(asked, ['forge/3-x', 'forge/3-x-2', 'forge/3-x-3']);
  });

  it('produces names git accepts', async () => {
    for (const title of ['..', 'a.lock', '-x-', 'foo@{bar}', 'a/b\\c', '']) {
      const name = await branchName(1, title, async () => false);
      assert.ok(isValidBranchName(name), name);
    }
  });

  it('rejects bad issue numbers', async () => {
    await assert.rejects(branchName(0, 'x', async () => false));
  });
});

describe('isValidBranchName', () => {
  it('follows check-ref-format rules', () => {
    for (const ok of ['main', 'forge/1-x', 'release/v1.2']) assert.ok(isValidBranchName(ok), ok);
    for (const bad of [
      '',
      '-f',
      'a..b',
      'a b',
      'a:b',
      'a~1',
      'a^',
      'x.lock',
      '.hidden',
      'a//b',
      'a/',
      '@',
      'a@{1}',
    ]) {
      assert.ok(!isValidBranchName(bad), bad);
    }
  });
});

it('long titles are cut at a word boundary', () => {
  const slug = slugify('`add()` returns the wrong result for negative numbers');
  assert.equal(slug, 'add-returns-the-wrong-result-for');
  assert.ok(slug.length <= 40);
  assert.equal(slugify('a'.repeat(60)), 'a'.repeat(40), 'one long word is still cut at 40');
});

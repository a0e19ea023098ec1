import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

/** Runs `scripts/demo.ts` the way `npm run demo` does (tsx), without a TTY, and collects its output. */
function runDemo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('scripts/demo.ts')], {
      cwd: resolve('.'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, output, ms: Date.now() - started });
    });
  });
}

test('npm run demo shows the whole loop offline and cleans up after itself', {
  timeout: 180_000,
}, async () => {
  // A private TMPDIR shows that every temporary directory (workspace, git server, Redis) is removed.
  const tmp = mkdtempSync(join(tmpdir(), 'forge-demo-test-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', TMPDIR: tmp };
    delete env.FORCE_COLOR;
    delete env.NO_COLOR;
    const { code, output, ms } = await runDemo(env);
    assert.equal(code, 0, `the demo exited ${code} after ${ms} ms:\n${output}`);
    const has = (pattern: RegExp | string, what: string) =>
      assert.ok(
        typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output),
        `${what} is missing from the output:\n${output}`,
      );

    assert.ok(!output.includes('\x1b['), 'no ANSI colour without a TTY');
    // 1. the conversation: alice's command, Forge's 👀 and its sticky comment
    has('alice commented', "alice's comment");
    has('/forge fix add() for negative numbers and add a test', 'the first command');
    has(/👀 forge-test\[bot\]/, 'the 👀 reaction');
    has(/forge-test\[bot\] commented[\s\S]*Forge · ✅ Done/, "Forge's sticky comment");
    // 2. the check run
    has(/Forge on [0-9a-f]{7}: completed, conclusion success\n\s+title: Turn 1: completed/, 'the check run');
    // 3. the PR
    has(/Pull request #2: /, 'the PR');
    has(/forge\/1-add-returns-[\w-]+ → main · ready for review/, 'head → base');
    has('Closes #1', 'the PR body');
    // 4. the commit and the diff hunks of the edit
    has('Author: forge[bot]', 'the commit author');
    has(/Co-authored-by: alice <\d+\+alice@users\.noreply\.github\.com>/, 'Co-authored-by');
    has('@@ -1,7 +1,5 @@', 'the hunk header of the fix');
    has('-  if (a < 0 || b < 0) return Math.abs(a) + Math.abs(b);', 'the removed buggy line');
    has('+  assert.equal(add(-2, 3), 1);', 'the new test');
    // the follow-up: a second turn, a second commit on the same PR
    has('/forge also document add() in the README', 'the follow-up command');
    has(
      /Forge on [0-9a-f]{7}: completed, conclusion success\n\s+title: Turn 2: completed/,
      'the second check',
    );
    has('+### `add(a, b)`', 'the README hunk');
    has(
      /PR #2 now has 2 commits on forge\/1-[\w-]+:\n\s+[0-9a-f]{7} also document add\(\) in the README\n/,
      'the second commit',
    );
    has('Still one pull request for the task (#2)', 'one PR');
    // 5. the footer
    has(/Forge made \d+ GitHub API writes/, 'the write count');
    has('Run it for real: see README → Running Forge for real', 'the pointer to the README');
    assert.doesNotMatch(output, /The demo failed/);

    // (tsx keeps its compile cache there too; that one is tsx's, not the demo's.)
    assert.deepEqual(
      readdirSync(tmp).filter((name) => !name.startsWith('tsx-')),
      [],
      'temporary directories are removed',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

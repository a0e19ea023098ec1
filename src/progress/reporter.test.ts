import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckReport, Forge } from '../forge/types.js';
import { ProgressReporter } from './reporter.js';

test('a commit pushed while the check run is still being created moves the check to the new commit', async () => {
  const calls: { sha: string; status: string; title: string; knownId?: number }[] = [];
  let nextId = 1;
  const forge = {
    async reportCheck(report: CheckReport, knownId?: number) {
      calls.push({
        sha: report.sha,
        status: report.status,
        title: report.title,
        ...(knownId ? { knownId } : {}),
      });
      if (knownId !== undefined) return { id: knownId };
      // Creation is slow (GitHub's write pacing): the turn pushes its commit meanwhile.
      await new Promise((r) => setTimeout(r, 100));
      return { id: nextId++ };
    },
  } as unknown as Forge;
  const created: number[] = [];
  const reporter = new ProgressReporter({
    forge,
    writeSticky: async () => 1,
    minIntervalMs: 0,
    redact: (t) => t,
    onError: (error) => assert.fail(String(error)),
    onCheckCreated: async (id) => {
      created.push(id);
    },
  });
  const report = { externalId: 't-2', summary: 's' };
  reporter.setCheck({ ...report, sha: 'a'.repeat(40), status: 'in_progress', title: 'Working' });
  await new Promise((r) => setTimeout(r, 20));
  reporter.setCheck({
    ...report,
    sha: 'b'.repeat(40),
    status: 'completed',
    conclusion: 'success',
    title: 'Done',
  });
  await reporter.flush();
  assert.deepEqual(calls, [
    { sha: 'a'.repeat(40), status: 'in_progress', title: 'Working' },
    { sha: 'a'.repeat(40), status: 'completed', title: 'Continued on bbbbbbb', knownId: 1 },
    { sha: 'b'.repeat(40), status: 'completed', title: 'Done' },
  ]);
  assert.deepEqual(created, [1, 2]);
  assert.equal(reporter.checkId, 2);
});

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
  const created: [number, string][] = [];
  const reporter = new ProgressReporter({
    forge,
    writeSticky: async () => 1,
    minIntervalMs: 0,
    redact: (t) => t,
    onError: (error) => assert.fail(String(error)),
    // The commit each check hangs on is remembered with it (a GitLab status is updated by commit).
    onCheckCreated: async (id, sha) => {
      created.push([id, sha]);
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
  assert.deepEqual(created, [
    [1, 'a'.repeat(40)],
    [2, 'b'.repeat(40)],
  ]);
  assert.equal(reporter.checkId, 2);
});

test('without a commit change, updates go to the same check', async () => {
  const calls: { report: CheckReport; knownId: number | undefined }[] = [];
  const forge = {
    async reportCheck(report: CheckReport, knownId?: number) {
      calls.push({ report: { ...report }, knownId });
      await new Promise((r) => setTimeout(r, 40));
      return { id: knownId ?? 100 };
    },
  } as unknown as Forge;
  const reporter = new ProgressReporter({
    forge,
    writeSticky: async () => 1,
    minIntervalMs: 0,
    redact: (t) => t,
    onError: (error) => assert.fail(String(error)),
  });
  const base = { title: 'Working', summary: 's', externalId: 't-1', status: 'in_progress' as const };
  reporter.setCheck({ ...base, sha: 'same' });
  await new Promise((r) => setTimeout(r, 10)); // the create is in flight
  reporter.setCheck({ ...base, sha: 'same', status: 'completed', conclusion: 'success' });
  await reporter.flush();
  assert.deepEqual(
    calls.map((c) => [c.report.sha, c.report.status, c.knownId]),
    [
      ['same', 'in_progress', undefined],
      ['same', 'completed', 100],
    ],
  );
});

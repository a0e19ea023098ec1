import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckReport, Forge } from '../forge/types.js';
import { ProgressReporter } from './reporter.js';

/** A forge whose check writes take a while, recording what was asked for. */
function slowForge() {
  const calls: { report: CheckReport; knownId: number | undefined }[] = [];
  let next = 100;
  const forge = {
    async reportCheck(report: CheckReport, knownId?: number) {
      calls.push({ report: { ...report }, knownId });
      await new Promise((r) => setTimeout(r, 40));
      return { id: knownId ?? next++ };
    },
  } as unknown as Forge;
  return { forge, calls };
}

const base = { title: 'Working', summary: 's', externalId: 't-1', status: 'in_progress' as const };

test('a commit change while the check is being created closes that check and opens one on the new commit', async () => {
  const { forge, calls } = slowForge();
  const created: [number, string][] = [];
  const reporter = new ProgressReporter({
    forge,
    writeSticky: async () => 1,
    minIntervalMs: 0,
    redact: (t) => t,
    onError: (error) => assert.fail(String(error)),
    onCheckCreated: async (id, sha) => {
      created.push([id, sha]);
    },
  });
  reporter.setCheck({ ...base, sha: 'old' });
  await new Promise((r) => setTimeout(r, 10)); // the create on `old` is in flight
  reporter.setCheck({ ...base, sha: 'new', status: 'completed', conclusion: 'success', title: 'Done' });
  await reporter.flush();
  assert.deepEqual(
    calls.map((c) => [c.report.sha, c.report.status, c.report.conclusion, c.knownId]),
    [
      ['old', 'in_progress', undefined, undefined],
      ['old', 'completed', 'neutral', 100],
      ['new', 'completed', 'success', undefined],
    ],
  );
  assert.equal(calls[1]!.report.title, 'Continued on new');
  assert.deepEqual(created, [
    [100, 'old'],
    [101, 'new'],
  ]);
  assert.equal(reporter.checkId, 101);
});

test('without a commit change, updates go to the same check', async () => {
  const { forge, calls } = slowForge();
  const reporter = new ProgressReporter({
    forge,
    writeSticky: async () => 1,
    minIntervalMs: 0,
    redact: (t) => t,
    onError: (error) => assert.fail(String(error)),
  });
  reporter.setCheck({ ...base, sha: 'same' });
  await new Promise((r) => setTimeout(r, 10));
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

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startOrphanReaper } from './reaper.js';
import type { Sandbox } from './types.js';

function sandboxReaping(results: Array<number | Error>): Sandbox & { calls: number } {
  const sandbox = {
    kind: 'docker' as const,
    calls: 0,
    create: () => Promise.reject(new Error('not used')),
    async reapOrphans() {
      const next = results[Math.min(sandbox.calls++, results.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return sandbox;
}

describe('startOrphanReaper', () => {
  test('reaps at start-up, then periodically; failures are logged, never thrown', async () => {
    const sandbox = sandboxReaping([2, new Error('engine down'), 0]);
    const logged: string[] = [];
    const log = {
      info: (_o: object, msg: string) => logged.push(`info ${msg}`),
      warn: (_o: object, msg: string) => logged.push(`warn ${msg}`),
    } as unknown as Parameters<typeof startOrphanReaper>[1]['log'];
    const reaper = startOrphanReaper(sandbox, { log, intervalMs: 20 });
    assert.equal(await reaper.firstRound, 2);
    const deadline = Date.now() + 5_000;
    while (sandbox.calls < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await reaper.stop();
    const calls = sandbox.calls;
    assert.ok(calls >= 3, `reaped ${calls} times`);
    assert.ok(logged.includes('info reaped orphaned sandboxes'));
    assert.ok(logged.includes('warn could not reap orphaned sandboxes'));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(sandbox.calls, calls, 'no more rounds after stop()');
  });
});

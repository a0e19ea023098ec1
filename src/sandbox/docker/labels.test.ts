import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { type ContainerSummary, type OrphanContext, orphanReason, ownerAlive, ownerLabel } from './labels.js';

const now = 1_700_000_000_000;

function container(labels: Record<string, string>, name = 'forge-x-1'): ContainerSummary {
  return {
    id: 'c1',
    names: [`/${name}`],
    labels: { 'forge.managed': 'true', 'forge.deadline': String(now + 60_000), ...labels },
  };
}

function ctx(overrides: Partial<OrphanContext> = {}): OrphanContext {
  return {
    workerId: 'w1',
    liveNames: new Set(),
    self: 'boot/ns/100/5',
    now,
    ownerAlive: () => false,
    ...overrides,
  };
}

describe('orphanReason', () => {
  test("another worker's container is left alone until its deadline", () => {
    assert.equal(
      orphanReason(container({ 'forge.worker': 'w2', 'forge.owner': 'b/n/1/1' }), ctx()),
      undefined,
    );
    const expired = container({ 'forge.worker': 'w2', 'forge.deadline': String(now - 1) });
    assert.equal(orphanReason(expired, ctx()), 'past_deadline');
  });

  test("this worker's live sessions are never orphans, even past the deadline", () => {
    const mine = container(
      { 'forge.worker': 'w1', 'forge.owner': 'boot/ns/100/5', 'forge.deadline': '0' },
      'live',
    );
    assert.equal(orphanReason(mine, ctx({ liveNames: new Set(['live']) })), undefined);
  });

  test("this worker's containers from an earlier process (or a failed destroy) are orphans", () => {
    assert.equal(
      orphanReason(container({ 'forge.worker': 'w1', 'forge.owner': 'boot/ns/77/3' }), ctx()),
      'leftover_of_this_worker',
    );
    assert.equal(
      orphanReason(container({ 'forge.worker': 'w1', 'forge.owner': 'boot/ns/100/5' }), ctx()),
      'leftover_of_this_worker',
    );
  });

  test('a live other process with the same worker id keeps its container', () => {
    const twin = container({ 'forge.worker': 'w1', 'forge.owner': 'boot/ns/77/3' });
    assert.equal(orphanReason(twin, ctx({ ownerAlive: (o) => o === 'boot/ns/77/3' })), undefined);
  });

  test('unmanaged containers are never touched; a missing deadline counts as expired', () => {
    assert.equal(orphanReason({ id: 'x', names: ['/db'], labels: {} }, ctx()), undefined);
    const { 'forge.deadline': _drop, ...noDeadline } = container({ 'forge.worker': 'w2' }).labels;
    assert.equal(orphanReason({ id: 'x', names: ['/y'], labels: noDeadline }, ctx()), 'past_deadline');
  });
});

describe('owner labels', () => {
  test('name this process and tell a live process from a dead one', async () => {
    const self = ownerLabel();
    assert.equal(self.split('/').length, 4);
    assert.equal(self.split('/')[2], String(process.pid));
    assert.equal(ownerAlive(self), true);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const label = ownerLabel(child.pid!);
    assert.equal(ownerAlive(label), true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(ownerAlive(label), false);
    // The same pid with another start time is another process (a reused pid).
    const parts = self.split('/');
    assert.equal(ownerAlive([parts[0], parts[1], parts[2], '1'].join('/')), false);
    assert.equal(ownerAlive('other-boot/ns/1/1'), false);
    assert.equal(ownerAlive(''), false);
  });
});

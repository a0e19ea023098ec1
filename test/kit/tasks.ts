import type { RepoRef } from '../../src/forge/types.js';
import type { Task, Turn } from '../../src/tasks/types.js';

/** Plain task records for tests that exercise the task model without a forge. */

export const fixtureRepo: RepoRef = {
  forge: 'github',
  installationId: 1,
  path: 'acme/widgets',
  cloneUrl: 'http://git.test/acme/widgets.git',
  defaultBranch: 'main',
  webUrl: 'http://git.test/acme/widgets',
};

export function fixtureTurn(n: number, overrides: Partial<Turn> = {}): Turn {
  return {
    n,
    instruction: `do ${n}`,
    requestedBy: 'alice',
    requestedById: 1,
    place: { type: 'issue', number: 1 },
    context: { title: 'T', body: 'B' },
    deliveryId: `d${n}`,
    options: {},
    state: 'queued',
    createdAt: new Date().toISOString(),
    attempts: 0,
    ...overrides,
  };
}

export function fixtureTask(id: string, overrides: Partial<Task> = {}): Task {
  const at = new Date().toISOString();
  return {
    v: 1,
    id,
    repo: fixtureRepo,
    issueNumber: 1,
    issueTitle: 'Issue 1',
    requestedBy: 'alice',
    state: 'queued',
    createdAt: at,
    updatedAt: at,
    turns: [fixtureTurn(1)],
    ...overrides,
  };
}

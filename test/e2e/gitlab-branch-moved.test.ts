import { describe } from 'node:test';
import { defineScenarios, useDriver } from './driver.js';
import { startGitLabDriver } from './driver-gitlab.js';
import { BRANCH_MOVED_SCENARIOS } from './scenarios/branch-moved.js';

/** The scenarios of branch-moved.test.ts (GitHub), on GitLab: rebase onto the moved MR branch, never force. */
describe('the merge request branch moves during a turn (GitLab)', () => {
  const d = useDriver(startGitLabDriver);
  defineScenarios(BRANCH_MOVED_SCENARIOS, d);
});

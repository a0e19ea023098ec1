import { describe } from 'node:test';
import { defineScenarios, useDriver } from './driver.js';
import { startGitHubDriver } from './driver-github.js';
import { BRANCH_MOVED_SCENARIOS } from './scenarios/branch-moved.js';

/** The PR branch moves during a turn, on GitHub; gitlab-branch-moved.test.ts runs the same on GitLab. */
describe('the branch moves during a turn', () => {
  const d = useDriver(startGitHubDriver);
  defineScenarios(BRANCH_MOVED_SCENARIOS, d);
});

import { describe } from 'node:test';
import { startGitHubDriver } from './driver-github.js';
import { defineLimitScenarios } from './scenarios/limits.js';

/** Caps that keep the work, on GitHub; gitlab-limits.test.ts runs the same scenarios on GitLab. */
describe('limits that keep the work', () => {
  defineLimitScenarios(startGitHubDriver);
});

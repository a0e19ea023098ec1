import { describe } from 'node:test';
import { startGitLabDriver } from './driver-gitlab.js';
import { defineLimitScenarios } from './scenarios/limits.js';

/** The scenarios of limits.test.ts (GitHub), on GitLab: the same test bodies, `.gitlab/forge.yml`. */
describe('limits that keep the work, on GitLab', () => {
  defineLimitScenarios(startGitLabDriver);
});

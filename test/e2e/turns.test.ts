import { describe } from 'node:test';
import { defineScenarios, useDriver } from './driver.js';
import { startGitHubDriver } from './driver-github.js';
import { TURN_SCENARIOS } from './scenarios/turns.js';

/** How the turns of one task run on GitHub; gitlab-turns.test.ts runs the same scenarios on GitLab. */
describe('turns of a task on GitHub: stop, the queue, the running check, closing, status', () => {
  const d = useDriver(startGitHubDriver);
  defineScenarios(TURN_SCENARIOS, d);
});

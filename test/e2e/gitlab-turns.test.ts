import { describe } from 'node:test';
import { defineScenarios, useDriver } from './driver.js';
import { startGitLabDriver } from './driver-gitlab.js';
import { TURN_SCENARIOS } from './scenarios/turns.js';

/** The turn scenarios of turns.test.ts (GitHub), on GitLab: the same test bodies, run by the GitLab driver. */
describe('turns of a task on GitLab: stop, the queue, the running status, closing, status', () => {
  const d = useDriver(startGitLabDriver);
  defineScenarios(TURN_SCENARIOS, d);
});

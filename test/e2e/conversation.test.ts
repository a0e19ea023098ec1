import { describe } from 'node:test';
import { defineScenarios, useDriver } from './driver.js';
import { startGitHubDriver } from './driver-github.js';
import { CONVERSATION_SCENARIOS } from './scenarios/conversation.js';

/** `/forge plan`, `/forge approve` and `/forge continue` on GitHub; gitlab-conversation.test.ts runs the same. */
describe('conversation commands: plan, approve, continue', () => {
  const d = useDriver(startGitHubDriver);
  defineScenarios(CONVERSATION_SCENARIOS, d);
});

import { describe } from 'node:test';
import { defineScenarios, useDriver } from './driver.js';
import { startGitLabDriver } from './driver-gitlab.js';
import { CONVERSATION_SCENARIOS } from './scenarios/conversation.js';

/** The scenarios of conversation.test.ts (GitHub), on GitLab: the same test bodies. */
describe('conversation commands on GitLab: plan, approve, continue', () => {
  const d = useDriver(startGitLabDriver);
  defineScenarios(CONVERSATION_SCENARIOS, d);
});

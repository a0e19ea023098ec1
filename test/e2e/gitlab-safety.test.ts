import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { defineScenarios, onIssue, useDriver } from './driver.js';
import { startGitLabDriver } from './driver-gitlab.js';
import { NO_LEAK_SCENARIO, SAFETY_SCENARIOS } from './scenarios/safety.js';
import { TURN_SCENARIOS } from './scenarios/turns.js';

/**
 * The safety scenarios of spine.test.ts (GitHub), on GitLab; the leak scan runs last, over what a
 * failed, a stopped and a completed turn made Forge write.
 */
describe('hostile input, a lazy agent and secrets on GitLab', () => {
  const d = useDriver(startGitLabDriver);
  const stop = TURN_SCENARIOS.filter((s) => s.name.startsWith('/forge stop mid-turn'));
  const failed = {
    name: 'a failed turn (its error goes to the sticky note, the status and the logs)',
    async run() {
      const at = onIssue(d().newIssue('Break it'));
      await d().ask(at, '/forge try this [fail]');
      const turn = (await d().settled(at)).turns[0]!;
      assert.equal(turn.state, 'failed');
      assert.match(turn.error ?? '', /the build broke/);
    },
  };
  defineScenarios([...SAFETY_SCENARIOS, ...stop, failed, NO_LEAK_SCENARIO], d);
});

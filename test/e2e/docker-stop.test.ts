import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { useDockerEngine } from '../kit/docker.js';
import { ensureAgentImage } from '../kit/docker-builds.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, REPO, REPO_REF, startHarness } from './harness.js';

/**
 * `/forge stop` and the turn's wall-clock limit through the whole pipeline with the Docker sandbox:
 * the container is killed and removed, and what the agent wrote before is a pushed WIP commit.
 * The `command` agent runs a script in the real agent image that writes, then keeps printing.
 */
const use = await useDockerEngine();

const SCRIPT = [
  'echo "- begun" >> CHANGES.md',
  'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo "working $i"; sleep 0.5; done',
  'echo "- never reached" >> CHANGES.md',
].join('\n');

describe('stop and the time limit kill the container and keep the work (Docker sandbox)', {
  skip: use.skip,
}, () => {
  let h: Harness;

  before(async () => {
    const image = await ensureAgentImage(use.engine!.docker);
    h = await startHarness({
      agentCommand: SCRIPT,
      env: {
        FORGE_SANDBOX: 'docker',
        DOCKER_HOST: use.engine!.host,
        FORGE_AGENT_IMAGE: image,
        FORGE_SANDBOX_NETWORK: 'none',
        // Long enough for the stop test to stop the turn first; the agent never goes quiet.
        FORGE_TURN_TIMEOUT: '12s',
      },
    });
  });
  after(async () => {
    await h?.close();
  });
  afterEach(() => h.github.assertNoViolations());

  const containersOf = (taskId: string) =>
    use.engine!.docker.listContainers({ all: true, filters: { label: [`forge.task=${taskId}`] } });

  const assertWipKept = async (issue: number, reason: RegExp) => {
    const task = await h.settled(issue, 1, 60_000);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'cancelled');
    assert.match(turn.endReason ?? '', reason);
    assert.ok(turn.commitSha, 'the work was committed');
    const [commit] = await h.git.log(`${REPO}.git`, task.branch!, 1);
    assert.equal(commit!.sha, turn.commitSha);
    assert.match(commit!.message, /^WIP: /);
    assert.equal(await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'), '- begun\n');
    assert.deepEqual(await containersOf(task.id), [], 'the container was removed');
    return task;
  };

  test('/forge stop mid-turn kills the container; the work is a WIP commit', async () => {
    const issue = h.newIssue('Stop me');
    await h.comment({ number: issue, body: '/forge write forever' });
    let taskId = '';
    await waitFor(async () => {
      const task = await h.forge.store.findByNumber(REPO_REF, issue);
      taskId = task?.id ?? '';
      return !!task && (await h.forge.store.events(task.id)).some((e) => e.text.includes('working 2'));
    }, 30_000);
    const running = await containersOf(taskId);
    assert.equal(running.length, 1, 'the turn runs in one container');
    assert.equal(running[0]!.State, 'running');
    await h.comment({ number: issue, body: '/forge stop' });
    const task = await assertWipKept(issue, /^stopped$/);
    const events = await h.forge.store.events(task.id, { count: 10_000 });
    assert.ok(!events.some((e) => e.text.includes('working 40')), 'stopped long before the time limit');
  });

  test('the wall-clock limit ends a busy agent; the work is a WIP commit and the reason is given', async () => {
    const issue = h.newIssue('Never done');
    await h.comment({ number: issue, body: '/forge write forever' });
    const task = await assertWipKept(issue, /^timeout$/);
    assert.match(task.turns[0]!.error ?? '', /ran longer than 12 seconds/);
    const sticky = h.github
      .comments(REPO, issue)
      .find((c) => c.body.includes(`<!-- forge:task:${task.id}:${issue} -->`));
    assert.match(sticky?.body ?? '', /ran longer than 12 seconds/);
  });
});

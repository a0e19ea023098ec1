import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { useDockerEngine } from '../kit/docker.js';
import { ensureAgentImage } from '../kit/docker-builds.js';
import { type Harness, REPO, startHarness } from './harness.js';

/**
 * What goes wrong in a container is reported on the turn in words an operator can act on, and the
 * work done before it is still committed: out of memory, an agent that goes silent, a missing image.
 * The `command` agent runs a small script in the real agent image; keywords in the prompt pick
 * what it does.
 */
const use = await useDockerEngine();

const SCRIPT = [
  'echo "- started" >> CHANGES.md',
  `if grep -q '\\[oom\\]' "$FORGE_PROMPT_FILE"; then node -e 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'; exit $?; fi`,
  `if grep -q '\\[silent\\]' "$FORGE_PROMPT_FILE"; then sleep 600; fi`,
  'echo "- finished" >> CHANGES.md',
].join('\n');

describe('container failures are reported on the turn, and the work is kept', { skip: use.skip }, () => {
  let h: Harness;

  before(async () => {
    const engine = use.engine!;
    const image = await ensureAgentImage(engine.docker);
    h = await startHarness({
      agentCommand: SCRIPT,
      env: {
        FORGE_SANDBOX: 'docker',
        DOCKER_HOST: engine.host,
        FORGE_AGENT_IMAGE: image,
        // The scripted agent needs no network; claude-code (whose image is missing) would reach the
        // gateway on the host's loopback.
        FORGE_SANDBOX_NETWORK: 'host',
        FORGE_SANDBOX_MEMORY_MB: '128',
        FORGE_IDLE_TIMEOUT: '4s',
        FORGE_ALLOWED_AGENTS: 'claude-code',
        FORGE_AGENT_IMAGES: 'claude-code=forge-test/no-such-image:1',
        ANTHROPIC_API_KEY: 'sk-ant-unused',
      },
    });
  });
  after(async () => {
    await h?.close();
  });
  afterEach(() => h.github.assertNoViolations());

  const noContainerLeft = async (taskId: string) => {
    const left = await use.engine!.docker.listContainers({
      all: true,
      filters: { label: [`forge.task=${taskId}`] },
    });
    assert.deepEqual(left, [], 'the container was removed');
  };

  test('out of memory: the turn says so and names the setting; the work before it is committed', async () => {
    const issue = h.newIssue('Eat memory');
    await h.comment({ number: issue, body: '/forge process everything [oom]' });
    const task = await h.settled(issue, 1, 120_000);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'failed');
    assert.match(turn.error ?? '', /ran out of memory/);
    assert.match(turn.error ?? '', /FORGE_SANDBOX_MEMORY_MB/);
    assert.ok(turn.commitSha, 'the work before it was committed');
    assert.equal(await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'), '- started\n');
    await noContainerLeft(task.id);
  });

  test('an agent that goes silent is stopped at the idle limit; its work is a WIP commit', async () => {
    const issue = h.newIssue('Go quiet');
    await h.comment({ number: issue, body: '/forge think very hard [silent]' });
    const task = await h.settled(issue, 1, 120_000);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'cancelled');
    assert.equal(turn.endReason, 'idle_timeout');
    assert.match(turn.error ?? '', /no output for 4 seconds/);
    assert.ok(turn.commitSha);
    const [commit] = await h.git.log(`${REPO}.git`, task.branch!, 1);
    assert.match(commit!.message, /^WIP: /);
    await noContainerLeft(task.id);
  });

  test('a missing image is reported as such, naming what to build', async () => {
    const issue = h.newIssue('Use another agent');
    await h.comment({ number: issue, body: '/forge --agent claude-code add an entry' });
    const task = await h.settled(issue, 1, 60_000);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'failed');
    assert.match(turn.error ?? '', /agent image is missing/);
    assert.match(turn.error ?? '', /forge-test\/no-such-image:1/);
    assert.match(turn.error ?? '', /Dockerfile\.agent/);
    const sticky = h.github
      .comments(REPO, issue)
      .find((c) => c.body.includes(`<!-- forge:task:${task.id}:${issue} -->`));
    assert.match(sticky?.body ?? '', /agent image is missing/);
  });
});

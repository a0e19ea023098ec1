import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Task } from '../../src/tasks/types.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { AGENT, type Harness, REPO, REPO_REF, SECRET, startHarness } from './harness.js';
import { type HoldProxy, startHoldProxy } from './hold-proxy.js';

/**
 * A worker process killed mid-turn (SIGKILL: no cleanup at all). Stalled-job detection hands the
 * turn to another worker, which runs it again; a turn whose worker dies twice is failed with a
 * message. The web side runs in this process; workers are real `npm start`-style processes.
 */
describe('worker killed mid-turn', () => {
  let h: Harness;
  const workers: ChildProcess[] = [];
  const output: string[] = [];

  const startWorker = (extraEnv: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH,
        APP_ID: String(h.github.appId),
        PRIVATE_KEY: h.github.privateKeyPem,
        WEBHOOK_SECRET: SECRET,
        GHE_HOST: h.github.host,
        GHE_PROTOCOL: 'http',
        REDIS_URL: h.redis.url,
        FORGE_ROLE: 'worker',
        FORGE_JOB_LOCK: '2s',
        FORGE_AGENT_COMMAND: AGENT,
        FORGE_WORKSPACE_DIR: h.workspace,
        FORGE_GATEWAY_PORT: '0',
        LOG_LEVEL: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    workers.push(child);
    return child;
  };
  const kill = (child: ChildProcess) => process.kill(-child.pid!, 'SIGKILL');
  const eventsOf = async (issue: number) => {
    const task = await h.forge.store.findByNumber(REPO_REF, issue);
    return task ? h.forge.store.events(task.id, { count: 100_000 }) : [];
  };
  /** The commits on the task's branch that carry turn 1's line (`Turn 1 of Forge task <id>, …`). */
  const turnOneCommits = async (task: Task) =>
    (await h.git.log(`${REPO}.git`, task.branch!, 50)).filter((c) =>
      c.message.includes(`Turn 1 of Forge task ${task.id},`),
    );
  /** Turn 1 ran its agent once: one commit, one PR, the change made once, and the turn completed. */
  const assertRanOnce = async (task: Task, line: string) => {
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'completed', `${turn.error}\n${output.join('')}`);
    assert.equal(turn.attempts, 2, 'the same turn was picked up again');
    const commits = await turnOneCommits(task);
    assert.equal(commits.length, 1, 'exactly one commit for the turn on the branch');
    assert.equal(commits[0]!.sha, turn.commitSha);
    assert.equal((await h.git.branches(`${REPO}.git`))[task.branch!], turn.commitSha);
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      `${line}\n`,
      'the change was made once',
    );
    const pulls = h.github.pulls(REPO).filter((p) => p.head === task.branch);
    assert.equal(pulls.length, 1, 'one PR');
    assert.match(pulls[0]!.body ?? '', new RegExp(`Closes #${task.issueNumber}`));
    const agentRuns = (await h.forge.store.events(task.id, { count: 100_000 })).filter((e) =>
      e.text.startsWith('agent command starting'),
    );
    assert.equal(agentRuns.length, 1, 'the agent ran once');
  };
  const proxies: HoldProxy[] = [];

  before(async () => {
    // The web role here shares Forge's default key prefix with the worker processes.
    h = await startHarness({ env: { FORGE_ROLE: 'web' }, overrides: { prefix: 'forge:' } });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      try {
        kill(w);
      } catch {}
    }
    for (const p of proxies.splice(0)) await p.close();
    h.github.assertNoViolations();
  });
  after(async () => {
    await h?.close();
  });

  test('another worker picks the turn up and finishes it', async () => {
    const issue = h.github.addIssue(REPO, { title: 'Survive a crash', body: '', user: 'alice' }).number;
    const first = startWorker();
    await h.comment({ number: issue, body: '/forge survive this [slow:3]' });
    await waitFor(async () => (await eventsOf(issue)).some((e) => e.text.includes('working… 2')), 30_000, {
      what: 'the agent to be working',
    });
    kill(first);
    startWorker();
    const task = await h.settled(issue, 1, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${output.join('')}`);
    });
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'completed', `${turn.error}\n${output.join('')}`);
    assert.equal(turn.attempts, 2, 'the same turn ran again, not a new one');
    assert.equal(task.turns.length, 1);
    assert.equal(h.github.pulls(REPO).filter((p) => p.head === task.branch).length, 1, 'one PR');
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'CHANGES.md'),
      '- survive this [slow:3]\n',
      'the change was made once',
    );
    const events = await eventsOf(issue);
    assert.ok(events.some((e) => /picked up again after its worker stopped/.test(e.text)));
  });

  test('a worker killed right after its push: the turn is finished from the pushed work, not run again', async () => {
    const issue = h.github.addIssue(REPO, { title: 'Pushed, then lost', body: '', user: 'alice' }).number;
    // The worker reaches GitHub through a proxy that holds its request to open the PR: by then the
    // push is done, and the worker is killed while it waits.
    const api = await startHoldProxy(h.github.url);
    proxies.push(api);
    const opening = api.holdOnce(
      (method, path) => method === 'POST' && path === `/api/v3/repos/${REPO}/pulls`,
      'request',
    );
    const first = startWorker({ GHE_HOST: api.host });
    await h.comment({ number: issue, body: '/forge pushed once' });
    await opening;
    const pushed = (await h.forge.store.findByNumber(REPO_REF, issue))!;
    assert.equal((await turnOneCommits(pushed)).length, 1, 'the first attempt pushed');
    kill(first);
    startWorker({ GHE_HOST: api.host });
    const task = await h.settled(issue, 1, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${output.join('')}`);
    });
    await assertRanOnce(task, '- pushed once');
    const events = await eventsOf(issue);
    assert.ok(events.some((e) => /an earlier attempt already pushed [0-9a-f]{7}/.test(e.text)));
  });

  test('a worker killed while its push lands: the turn’s commit is found on the branch and not made again', async () => {
    const issue = h.github.addIssue(REPO, { title: 'Lost while pushing', body: '', user: 'alice' }).number;
    // Clones and pushes go through a proxy that lets the push land on the git server but never
    // tells the worker: it dies before it could record the push.
    const git = await startHoldProxy(h.git.url);
    proxies.push(git);
    const direct = h.repo.cloneUrl;
    h.repo.cloneUrl = `${git.url}/${REPO}.git`;
    try {
      const landing = git.holdOnce(
        (method, path) => method === 'POST' && path === `/${REPO}.git/git-receive-pack`,
        'response',
      );
      const first = startWorker();
      await h.comment({ number: issue, body: '/forge pushed while dying' });
      await landing;
      const pushed = (await h.forge.store.findByNumber(REPO_REF, issue))!;
      assert.equal((await turnOneCommits(pushed)).length, 1, 'the push landed');
      assert.equal(pushed.turns[0]!.published, undefined, 'unrecorded');
      kill(first);
      startWorker();
      const task = await h.settled(issue, 1, 60_000).catch((e) => {
        throw new Error(`${e.message}\n${output.join('')}`);
      });
      await assertRanOnce(task, '- pushed while dying');
      const events = await eventsOf(issue);
      assert.ok(events.some((e) => /its commit [0-9a-f]{7} is already on/.test(e.text)));
    } finally {
      h.repo.cloneUrl = direct;
    }
  });

  test('a turn whose worker dies twice is failed with a message, never lost', async () => {
    const issue = h.github.addIssue(REPO, { title: 'Crash twice', body: '', user: 'alice' }).number;
    await h.comment({ number: issue, body: '/forge crash me [slow:20]' });
    for (let i = 1; i <= 2; i++) {
      const worker = startWorker();
      await waitFor(
        async () =>
          (await h.forge.store.findByNumber(REPO_REF, issue))?.turns[0]?.attempts === i &&
          (await eventsOf(issue)).filter((e) => e.text.includes('working… 2')).length >= i,
        40_000,
        { what: `attempt ${i} to be working` },
      );
      kill(worker);
    }
    startWorker();
    const task = await h.settled(issue, 1, 60_000);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'failed', output.join(''));
    assert.equal(turn.endReason, 'worker_lost');
    assert.match(turn.error ?? '', /stopped twice|was lost/);
    await waitFor(
      () => h.github.comments(REPO, issue).some((c) => /❌ Failed/.test(c.body) && /try again/.test(c.body)),
      20_000,
      {
        what: 'the sticky comment to say the turn failed',
      },
    );
  });

  test('SIGTERM mid-turn: the worker pushes the work so far, ends the turn and exits', async () => {
    const issue = h.github.addIssue(REPO, { title: 'Deploy during a turn', body: '', user: 'alice' }).number;
    const worker = startWorker({ FORGE_SHUTDOWN_GRACE: '1s' });
    await h.comment({ number: issue, body: '/forge long work [slow:60]' });
    await waitFor(async () => (await eventsOf(issue)).some((e) => e.text.includes('working… 2')), 30_000, {
      what: 'the agent to be working',
    });
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    assert.equal(await exited, 0, output.join(''));
    const task = await h.settled(issue, 1, 20_000);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'cancelled');
    assert.match(turn.error ?? '', /shut down/);
    assert.ok(turn.commitSha, 'the work so far was committed');
    assert.equal((await h.git.branches(`${REPO}.git`))[task.branch!], turn.commitSha, 'and pushed');
  });
});

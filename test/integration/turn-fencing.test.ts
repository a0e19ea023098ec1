import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { CommandAgent } from '../../src/agents/command.js';
import type { AgentResult, AgentRunner } from '../../src/agents/types.js';
import { GitHubForge } from '../../src/forge/github/forge.js';
import type { RepoRef } from '../../src/forge/types.js';
import { Redactor } from '../../src/observability/redact.js';
import { StickyComments } from '../../src/progress/stickies.js';
import { LocalSandbox } from '../../src/sandbox/local/local-sandbox.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import { CancelBus } from '../../src/tasks/cancel.js';
import { createQueues, type Queues } from '../../src/tasks/queues.js';
import { runTurn, type TurnDeps } from '../../src/tasks/run-turn.js';
import { TurnScheduler } from '../../src/tasks/scheduler.js';
import { TaskStore } from '../../src/tasks/store.js';
import type { Task } from '../../src/tasks/types.js';
import type { FakeGitHub } from '../kit/fake-github/index.js';
import { waitFor } from '../kit/fake-github/wait.js';
import type { GitServer } from '../kit/git-server.js';
import { installationOctokit, startGitHubWithGit } from '../kit/github-with-git.js';
import { type RedisServer, startRedis } from '../kit/redis.js';
import { fixtureTurn } from '../kit/tasks.js';

/**
 * Two attempts of one turn at once — what BullMQ does when a live worker loses a job's lock (a
 * Redis blip, an event loop stalled past FORGE_JOB_LOCK) and hands the job to another worker. The
 * real runTurn on a real Redis, git server, local sandbox and scripted command agent, against the
 * strict fake GitHub; the second attempt starts while the first one's agent is working.
 */

const OWNER = 'acme';
const NAME = 'widgets';
const REPO = `${OWNER}/${NAME}`;
const INSTALLATION = 77;
const PREFIX = 'it-fence:';
const SCRIPTED_AGENT = `${process.execPath} ${resolve('test/fixtures/scripted-agent.mjs')}`;

describe('two attempts of one turn at once', () => {
  let server: RedisServer;
  let redis: Redis;
  let git: GitServer;
  let github: FakeGitHub;
  let queues: Queues;
  let store: TaskStore;
  let scheduler: TurnScheduler;
  let repo: RepoRef;
  let deps: TurnDeps;
  let workspaceRoot: string;
  /** Every agent run, with the signal that stops it and how it ended. */
  const agentRuns: { signal: AbortSignal; result?: Promise<AgentResult> }[] = [];
  const sandboxes = { created: 0, destroyed: 0 };

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    ({ github, git } = await startGitHubWithGit());
    github.addRepo({ owner: OWNER, name: NAME, installationId: INSTALLATION });
    await git.seedRepo(`${REPO}.git`, { 'README.md': '# Widgets\n' });
    repo = {
      forge: 'github',
      installationId: INSTALLATION,
      path: REPO,
      cloneUrl: git.cloneUrl(`${REPO}.git`),
      defaultBranch: 'main',
      webUrl: `${github.url}/${REPO}`,
    };
    const forge = new GitHubForge(await installationOctokit(github, INSTALLATION), repo);
    store = new TaskStore({ redis, prefix: PREFIX, ttlMs: 60_000 });
    queues = createQueues(redis, PREFIX);
    scheduler = new TurnScheduler(store, queues.turns);
    workspaceRoot = mkdtempSync(join(tmpdir(), 'forge-fence-'));

    const command = new CommandAgent({ command: SCRIPTED_AGENT });
    const agent: AgentRunner = {
      name: 'command',
      run(input, ctx) {
        const result = command.run(input, ctx);
        agentRuns.push({ signal: ctx.signal!, result });
        return result;
      },
    };
    const local = new LocalSandbox({ killGraceMs: 200, drainGraceMs: 200 });
    const sandbox: Sandbox = {
      kind: 'local',
      reapOrphans: () => local.reapOrphans(),
      async create(spec) {
        const session = await local.create(spec);
        sandboxes.created++;
        const destroy = session.destroy.bind(session);
        let counted = false;
        // destroy() is idempotent and a turn may call it more than once: count sessions, not calls.
        session.destroy = async () => {
          if (!counted) sandboxes.destroyed++;
          counted = true;
          await destroy();
        };
        return session;
      },
    };
    deps = {
      store,
      stickies: new StickyComments(store, redis, PREFIX),
      scheduler,
      forges: { forRepo: async () => forge },
      sandbox,
      agents: new Map([['command', agent]]),
      cancel: new CancelBus(redis, PREFIX),
      redactor: new Redactor(),
      log: pino({ level: 'silent' }),
      workspaceRoot,
      gitAuthor: { name: 'forge[bot]', email: 'forge@example.test' },
      draftPullRequests: false,
      gitMirror: false,
      turnTimeoutMs: 120_000,
      idleTimeoutMs: 120_000,
      logUrl: () => undefined,
      minWriteIntervalMs: 10,
      fenceCheckMs: 100,
    };
  });
  afterEach(() => github.assertNoViolations());
  after(async () => {
    await queues?.close();
    await redis?.quit().catch(() => undefined);
    await github?.close();
    await git?.close();
    await server?.stop();
    if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
  });

  /** A task on a new issue with one queued turn, dispatched as the scheduler would. */
  async function newTask(instruction: string): Promise<Task> {
    const issue = github.addIssue(REPO, { title: instruction, body: '', user: 'alice' }).number;
    const { task } = await store.findOrCreate(repo, issue, (id) => {
      const at = new Date().toISOString();
      return {
        v: 1,
        id,
        repo,
        issueNumber: issue,
        issueTitle: instruction,
        requestedBy: 'alice',
        state: 'queued',
        createdAt: at,
        updatedAt: at,
        turns: [fixtureTurn(1, { instruction, place: { type: 'issue', number: issue } })],
      };
    });
    assert.equal(await scheduler.dispatchNext(task.id), 1);
    return task;
  }

  const turnCommits = async (task: Task, branch: string) =>
    (await git.log(`${REPO}.git`, branch, 50)).filter((c) =>
      c.message.includes(`Turn 1 of Forge task ${task.id},`),
    );
  const pushes = () =>
    git.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'));
  /** The scripted agent made its change and is busy (`[slow:N]`). */
  const working = (task: Task) =>
    waitFor(
      async () =>
        (await store.events(task.id)).some((e) => e.kind === 'output' && e.text.includes('working… 2')),
      30_000,
      { what: 'the agent to be working' },
    );
  const notes = async (task: Task) => (await store.events(task.id)).filter((e) => e.kind === 'state');

  test('the newer attempt runs the turn; the older one stops its agent, pushes nothing and finishes nothing', async () => {
    const task = await newTask('make the change [slow:3]');
    const runsBefore = agentRuns.length;
    const pushesBefore = pushes().length;
    const sandboxesBefore = { ...sandboxes };
    const job = { v: 1 as const, taskId: task.id, turn: 1 };

    const first = runTurn(job, deps);
    await working(task);
    assert.equal(agentRuns.length, runsBefore + 1);
    const second = runTurn(job, deps);
    await Promise.all([first, second]);

    const stored = (await store.get(task.id))!;
    const turn = stored.turns[0]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(turn.attempts, 2);
    assert.equal(turn.published, undefined, 'the record of the push is cleared when the turn finishes');
    const commits = await turnCommits(task, stored.branch!);
    assert.equal(commits.length, 1, 'one commit for the turn on the branch');
    assert.equal(commits[0]!.sha, turn.commitSha);
    assert.equal(pushes().length - pushesBefore, 1, 'one push');
    assert.equal(
      await git.fileAt(`${REPO}.git`, stored.branch!, 'CHANGES.md'),
      '- make the change [slow:3]\n',
    );
    assert.equal(github.pulls(REPO).filter((p) => p.head === stored.branch).length, 1, 'one PR');

    const log = await notes(task);
    assert.equal(log.filter((e) => e.text.startsWith('turn 1 completed')).length, 1, 'finished once');
    const older = agentRuns[runsBefore]!;
    assert.ok(older.signal.aborted, 'the older attempt’s agent was stopped');
    assert.equal((await older.result)?.conclusion, 'cancelled');
    assert.equal(agentRuns.length, runsBefore + 2, 'the newer attempt ran the agent');

    assert.equal(
      log.filter((e) =>
        /stopped without pushing to the turn's branch: a newer attempt took the turn over/.test(e.text),
      ).length,
      1,
      'the older attempt says why it stopped',
    );
    assert.deepEqual(
      {
        created: sandboxes.created - sandboxesBefore.created,
        destroyed: sandboxes.destroyed - sandboxesBefore.destroyed,
      },
      { created: 2, destroyed: 2 },
      'both attempts’ sandboxes were destroyed',
    );
    assert.equal(stored.dispatchedTurn, undefined, 'the task’s slot was released');
  });

  test('a turn given up on while its attempt works: the work goes on a branch of its own, not the turn’s', async () => {
    const task = await newTask('keep my work [slow:5]');
    const runsBefore = agentRuns.length;
    const running = runTurn({ v: 1, taskId: task.id, turn: 1 }, deps);
    await working(task);
    // What the worker's `failed` handler does after BullMQ gave up on the job.
    assert.equal(await scheduler.failLost(task.id, 1, 'The worker running this turn was lost.'), true);
    await running;

    assert.ok(agentRuns[runsBefore]!.signal.aborted, 'the agent was stopped');
    const stored = (await store.get(task.id))!;
    const turn = stored.turns[0]!;
    assert.equal(turn.state, 'failed');
    assert.equal(turn.endReason, 'worker_lost');
    assert.equal(turn.commitSha, undefined);
    const branches = await git.branches(`${REPO}.git`);
    assert.equal(branches[stored.branch!], undefined, 'nothing was pushed to the turn’s branch');
    const aside = `${stored.branch}-turn-1`;
    assert.ok(branches[aside], 'the work is kept on a branch of its own');
    assert.equal(await git.fileAt(`${REPO}.git`, aside, 'CHANGES.md'), '- keep my work [slow:5]\n');
    assert.equal((await turnCommits(task, aside)).length, 1);
    const log = await notes(task);
    assert.ok(log.some((e) => e.text.includes(`is kept on ${aside}`)));
    assert.ok(!log.some((e) => e.text.startsWith('turn 1 failed') || e.text.startsWith('turn 1 cancelled')));
  });
});

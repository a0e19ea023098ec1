import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { GitHubForge } from '../../src/forge/github/forge.js';
import { queuedNoteMarker, startTurnReplies } from '../../src/intake/replies.js';
import { StickyComments } from '../../src/progress/stickies.js';
import { createQueues, type Queues } from '../../src/tasks/queues.js';
import { TurnScheduler } from '../../src/tasks/scheduler.js';
import { TaskStore } from '../../src/tasks/store.js';
import { FakeGitHub } from '../kit/fake-github/index.js';
import { installationOctokit } from '../kit/github-with-git.js';
import { type RedisServer, startRedis } from '../kit/redis.js';
import { fixtureRepo, fixtureTurn } from '../kit/tasks.js';

/**
 * The place-in-line note of a queued turn is posted once however often the event job runs (BullMQ
 * runs it at least once), and a turn asked in a review thread gets it in that thread. Real Redis,
 * task store and scheduler; GitHubForge against the strict fake GitHub.
 */

const REPO = 'acme/widgets';
const PREFIX = 'it-queued:';
const BOT = 'forge-test[bot]';

describe('queued notes', () => {
  let server: RedisServer;
  let redis: Redis;
  let queues: Queues;
  let store: TaskStore;
  let github: FakeGitHub;
  let forge: GitHubForge;
  let replies: Omit<Parameters<typeof startTurnReplies>[0], 'taskId' | 'turn'>;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    queues = createQueues(redis, PREFIX);
    store = new TaskStore({ redis, prefix: PREFIX, ttlMs: 60_000 });
    github = await FakeGitHub.start();
    github.addRepo({ owner: 'acme', name: 'widgets', installationId: 77 });
    const octokit = await installationOctokit(github, 77);
    forge = new GitHubForge(octokit, { ...fixtureRepo, path: REPO, webUrl: `${github.url}/${REPO}` });
    replies = {
      forge,
      store,
      scheduler: new TurnScheduler(store, queues.turns),
      stickies: new StickyComments(store, redis, PREFIX),
    };
  });
  after(async () => {
    await github?.close();
    await queues?.close();
    await redis?.quit().catch(() => undefined);
    await server?.stop();
  });
  afterEach(() => github.assertNoViolations());

  test('a retried job edits its note instead of posting another; a review-thread turn is answered in the thread', async () => {
    const pr = github.addPull(REPO, { title: 'PR', user: 'alice', head: 'forge/1-x' }).number;
    const root = github.addReviewComment(REPO, pr, { body: '/forge rename it', user: 'maya' }).id;
    const { task } = await store.findOrCreate(fixtureRepo, { type: 'change_request', number: pr }, (id) => ({
      v: 1,
      id,
      repo: fixtureRepo,
      issueNumber: pr,
      issueTitle: 'PR',
      changeRequest: { number: pr, url: 'x' },
      requestedBy: 'alice',
      state: 'running',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      turns: [
        fixtureTurn(1, { state: 'running', place: { type: 'change_request', number: pr } }),
        fixtureTurn(2, { place: { type: 'change_request', number: pr } }),
        fixtureTurn(3, { place: { type: 'review_thread', number: pr, threadId: String(root) } }),
      ],
    }));

    for (let attempt = 0; attempt < 2; attempt++) {
      await startTurnReplies({ ...replies, taskId: task.id, turn: 2 });
      await startTurnReplies({ ...replies, taskId: task.id, turn: 3 });
    }

    const notes = github.comments(REPO, pr).filter((c) => c.user === BOT);
    assert.equal(notes.length, 1, 'one note in the conversation, for turn 2');
    assert.match(notes[0]!.body, /^Queued as turn 2 of this task, behind 1 other turn\./);
    assert.ok(notes[0]!.body.includes(queuedNoteMarker(task.id, 2)));
    const inThread = github.reviewComments(REPO, pr).filter((c) => c.user === BOT);
    assert.equal(inThread.length, 1, 'one note in the thread, for turn 3');
    assert.equal(inThread[0]!.inReplyToId, root);
    assert.match(inThread[0]!.body, /^Queued as turn 3 of this task, behind 2 other turns\./);
    assert.ok(inThread[0]!.body.includes(queuedNoteMarker(task.id, 3)));
  });
});

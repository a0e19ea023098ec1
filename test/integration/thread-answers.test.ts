import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { GitHubForge } from '../../src/forge/github/forge.js';
import { Redactor } from '../../src/observability/redact.js';
import { answerThreads, threadReplyMarker } from '../../src/tasks/turn-feedback.js';
import { FakeGitHub } from '../kit/fake-github/index.js';
import { installationOctokit } from '../kit/github-with-git.js';
import { fixtureTask, fixtureTurn } from '../kit/tasks.js';

/**
 * Answering in review threads is at-least-once safe: BullMQ may run a turn's job again after its
 * answers went out (a worker lost after posting, before the job completed). GitHubForge against
 * the strict fake GitHub (REST for the replies, GraphQL to find what was already answered).
 */

const REPO = 'acme/widgets';
let github: FakeGitHub;
let forge: GitHubForge;
const deps = { redactor: new Redactor(), log: pino({ level: 'silent' }) };

before(async () => {
  github = await FakeGitHub.start();
  github.addRepo({ owner: 'acme', name: 'widgets', installationId: 77 });
  const octokit = await installationOctokit(github, 77);
  forge = new GitHubForge(octokit, {
    forge: 'github',
    installationId: 77,
    path: REPO,
    cloneUrl: 'http://git.test/acme/widgets.git',
    defaultBranch: 'main',
    webUrl: `${github.url}/${REPO}`,
  });
});
after(() => github.close());
afterEach(() => github.assertNoViolations());

describe('answerThreads', () => {
  test('answers each addressed thread once, however often the job runs, and skips resolved ones', async () => {
    const pr = github.addPull(REPO, { title: 'PR', user: 'alice', head: 'forge/1-x' }).number;
    const roots = [0, 1, 2].map(
      (i) => github.addReviewComment(REPO, pr, { body: `fix ${i}`, user: 'maya' }).id,
    );
    const turn = fixtureTurn(2, {
      state: 'completed',
      mode: 'address_reviews',
      place: { type: 'change_request', number: pr },
      reviewThreads: roots.map(String),
      commitSha: 'abcdef1234567',
      summary: `Done.\nThread ${roots[0]}: renamed it\nThread ${roots[1]}: added the test`,
    });
    const task = fixtureTask('tanswers1', {
      branch: 'forge/1-x',
      changeRequest: { number: pr, url: 'x' },
      turns: [turn],
    });
    github.resolveThread(REPO, roots[2]!);

    assert.equal(await answerThreads(task, turn, forge, deps), 2);
    assert.equal(await answerThreads(task, turn, forge, deps), 0, 'a retried job posts nothing new');
    const bot = github.reviewComments(REPO, pr).filter((c) => c.user === 'forge-test[bot]');
    assert.deepEqual(
      bot.map((c) => [c.inReplyToId, c.body.split('\n')[0]]),
      [
        [roots[0], 'Addressed in `abcdef1` on `forge/1-x`: renamed it'],
        [roots[1], 'Addressed in `abcdef1` on `forge/1-x`: added the test'],
      ],
    );
    assert.ok(bot.every((c) => c.body.endsWith(threadReplyMarker(task.id, 2))));

    // Another turn of the same task answers again: its marker is its own.
    const next = { ...turn, n: 3 };
    assert.equal(await answerThreads({ ...task, turns: [turn, next] }, next, forge, deps), 2);
  });

  test('a turn asked in a review thread answers in it once; other turns answer nowhere', async () => {
    const pr = github.addPull(REPO, { title: 'PR2', user: 'alice', head: 'forge/2-x' }).number;
    const root = github.addReviewComment(REPO, pr, { body: 'Wrong heading.', user: 'maya' }).id;
    const turn = fixtureTurn(2, {
      state: 'completed',
      place: { type: 'review_thread', number: pr, threadId: String(root) },
      commitSha: '1234567abcdef',
    });
    const task = fixtureTask('tanswers2', { branch: 'forge/2-x', turns: [turn] });
    assert.equal(await answerThreads(task, turn, forge, deps), 1);
    assert.equal(await answerThreads(task, turn, forge, deps), 0);
    const replies = github.reviewComments(REPO, pr).filter((c) => c.inReplyToId === root);
    assert.equal(replies.length, 1);
    assert.match(replies[0]!.body, /^Done in `1234567` on `forge\/2-x`\./);
    const plain = fixtureTurn(3, { state: 'completed', place: { type: 'change_request', number: pr } });
    const before = github.calls.length;
    assert.equal(await answerThreads(task, plain, forge, deps), 0);
    assert.equal(github.calls.length, before, 'no API call for a turn without threads');
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { after, afterEach, before } from 'node:test';
import { type ForgeOverrides, type RunningForge, startForge } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { FakeGitHub } from '../kit/fake-github/index.js';
import { waitFor } from '../kit/fake-github/wait.js';
import type { GitServer } from '../kit/git-server.js';
import { startGitHubWithGit } from '../kit/github-with-git.js';
import { type RedisServer, startRedis } from '../kit/redis.js';
import {
  buildDelivery,
  examplePayload,
  issueCommentCreated,
  issuesLabeled,
  pullRequestClosed,
  sendDelivery,
} from '../kit/webhooks.js';

export const AGENT = `${process.execPath} ${resolve('test/fixtures/scripted-agent.mjs')}`;
export const OWNER = 'acme';
export const NAME = 'widgets';
export const REPO = `${OWNER}/${NAME}`;
export const INSTALLATION = 77;
/** The test repository as Forge's store knows it (enough to look tasks up by number). */
export const REPO_REF = {
  forge: 'github' as const,
  path: REPO,
  cloneUrl: '',
  defaultBranch: 'main',
  webUrl: '',
};
export const SECRET = 'webhook-secret-for-tests-0123456789';

export interface Harness {
  redis: RedisServer;
  github: FakeGitHub;
  git: GitServer;
  forge: RunningForge;
  workspace: string;
  logs: string[];
  repo: { owner: string; name: string; cloneUrl: string; id: number };
  webhookUrl: string;
  /** Posts a comment as `user` on issue/PR `number` (in the fake) and delivers its webhook. */
  comment(input: {
    number: number;
    body: string;
    user?: string;
    userType?: 'User' | 'Bot';
    isPullRequest?: boolean;
    /** When the comment says it was written (default now): webhooks may arrive out of order. */
    writtenAt?: Date;
  }): Promise<{ status: number; commentId: number; deliveryId: string }>;
  label(input: { number: number; label?: string; user?: string }): Promise<{ status: number }>;
  /** A review comment (optionally a reply in a thread) on PR `pr`, and its webhook. */
  reviewComment(input: {
    pr: number;
    body: string;
    user?: string;
    inReplyTo?: number;
  }): Promise<{ status: number; commentId: number }>;
  closePull(number: number, merged: boolean): Promise<{ status: number }>;
  deliver(
    event: string,
    payload: unknown,
    deliveryId?: string,
    secret?: string,
  ): Promise<{ status: number; deliveryId: string }>;
  /** Opens an issue in the fake as alice and returns its number. */
  newIssue(title: string, body?: string): number;
  /** Waits until no request reached the fake GitHub for `ms` (the worker is done with earlier work). */
  quiet(ms?: number): Promise<void>;
  /** Waits until the task on `number` has `turns` turns, all finished, and returns it. */
  settled(
    number: number,
    turns?: number,
    timeoutMs?: number,
  ): Promise<import('../../src/tasks/types.js').Task>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  agentCommand?: string;
  env?: Record<string, string>;
  overrides?: ForgeOverrides;
  /** Start Forge itself (default true); false lets a test run its own processes. */
  startForge?: boolean;
  redis?: RedisServer;
}

/**
 * Everything real that can run here — Redis, git over smart HTTP, Forge's HTTP server and worker,
 * the local sandbox and a scripted command agent — around the one fake: GitHub's REST API.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const redis = options.redis ?? (await startRedis());
  const { github, git } = await startGitHubWithGit();
  const { id } = github.addRepo({ owner: OWNER, name: NAME, installationId: INSTALLATION });
  await git.seedRepo(`${REPO}.git`, {
    'README.md': '# Widgets\n',
    'src/index.js': 'export const answer = 42;\n',
  });
  github.addIssue(REPO, {
    number: 1,
    title: 'Add a changelog',
    body: 'We need a CHANGES.md file.',
    user: 'alice',
  });
  github.setPermission(REPO, 'alice', 'write');
  github.setPermission(REPO, 'maya', 'maintain');
  github.setPermission(REPO, 'rita', 'read');
  const workspace = mkdtempSync(join(tmpdir(), 'forge-e2e-'));
  const logs: string[] = [];
  const env = {
    APP_ID: String(github.appId),
    PRIVATE_KEY: github.privateKeyPem,
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    FORGE_AGENT_COMMAND: options.agentCommand ?? AGENT,
    FORGE_WORKSPACE_DIR: workspace,
    FORGE_PUBLIC_URL: 'http://forge.test',
    // Test files run in parallel: each worker's model gateway takes a free port.
    FORGE_GATEWAY_PORT: '0',
    ...options.env,
  };
  const forge =
    options.startForge === false
      ? (undefined as unknown as RunningForge)
      : await startForge(loadConfig(env), {
          prefix: `t${randomBytes(4).toString('hex')}:`,
          minWriteIntervalMs: 50,
          timings: { reconcileIntervalMs: 2000 },
          logDestination: new Writable({
            write(chunk, _enc, done) {
              logs.push(chunk.toString());
              done();
            },
          }),
          ...options.overrides,
        });
  const webhookUrl = `${forge?.url}/api/github/webhooks`;
  const repo = { owner: OWNER, name: NAME, cloneUrl: git.cloneUrl(`${REPO}.git`), id };
  const deliver = async (event: string, payload: unknown, deliveryId?: string, secret = SECRET) => {
    const delivery = buildDelivery({ event, payload, secret, ...(deliveryId ? { deliveryId } : {}) });
    const res = await sendDelivery(webhookUrl, delivery);
    return { status: res.status, deliveryId: delivery.headers['X-GitHub-Delivery']! };
  };
  const harness: Harness = {
    redis,
    github,
    git,
    forge,
    workspace,
    logs,
    repo,
    webhookUrl,
    deliver,
    async comment({ number, body, user = 'alice', userType = 'User', isPullRequest, writtenAt }) {
      const isPr = isPullRequest ?? github.issue(REPO, number)?.pull !== undefined;
      const { id: commentId } = github.addComment(REPO, number, { body, user });
      const issue = github.issue(REPO, number);
      const payload = issueCommentCreated({
        repo: { ...repo, defaultBranch: 'main' },
        installationId: INSTALLATION,
        issue: { number, title: issue?.title ?? 'Issue', body: issue?.body ?? '', isPullRequest: isPr },
        comment: { id: commentId, body, ...(writtenAt ? { createdAt: writtenAt } : {}) },
        sender: { login: user, id: 1000 + user.length, type: userType },
      });
      const { status, deliveryId } = await deliver('issue_comment', payload);
      return { status, commentId, deliveryId };
    },
    async reviewComment({ pr, body, user = 'alice', inReplyTo }) {
      const { id: commentId } = github.addReviewComment(REPO, pr, {
        body,
        user,
        path: 'README.md',
        line: 1,
        ...(inReplyTo ? { inReplyTo } : {}),
      });
      const pull = github.issue(REPO, pr);
      // The real payload's shape, with the repository, installation and sender of a real delivery.
      const base = issueCommentCreated({
        repo: { ...repo, defaultBranch: 'main' },
        installationId: INSTALLATION,
        issue: { number: pr, isPullRequest: true },
        comment: { id: commentId, body },
        sender: { login: user, id: 1000 + user.length, type: 'User' },
      });
      const payload = examplePayload('pull_request_review_comment', 'created');
      payload.comment = {
        ...payload.comment,
        id: commentId,
        body,
        user: base.sender,
        ...(inReplyTo ? { in_reply_to_id: inReplyTo } : {}),
      };
      payload.pull_request = {
        ...payload.pull_request,
        number: pr,
        title: pull?.title ?? 'PR',
        body: pull?.body ?? '',
      };
      payload.repository = base.repository;
      payload.installation = base.installation;
      payload.sender = base.sender;
      const { status } = await deliver('pull_request_review_comment', payload);
      return { status, commentId };
    },
    async label({ number, label = 'forge', user = 'alice' }) {
      const issue = github.issue(REPO, number);
      const payload = issuesLabeled({
        repo: { ...repo, defaultBranch: 'main' },
        installationId: INSTALLATION,
        issue: { number, title: issue?.title ?? 'Issue', body: issue?.body ?? '' },
        label: { name: label },
        sender: { login: user, id: 1000 + user.length, type: 'User' },
      });
      return deliver('issues', payload);
    },
    async closePull(number, merged) {
      if (merged) github.mergePull(REPO, number);
      else github.closePull(REPO, number);
      const pull = github.pulls(REPO).find((p) => p.number === number);
      const payload = pullRequestClosed({
        repo: { ...repo, defaultBranch: 'main' },
        installationId: INSTALLATION,
        number,
        merged,
        ...(pull ? { head: { ref: pull.head } } : {}),
      });
      return deliver('pull_request', payload);
    },
    newIssue(title, body = 'Details.') {
      return github.addIssue(REPO, { title, body, user: 'alice' }).number;
    },
    async quiet(ms = 600) {
      await waitFor(
        async () => {
          const count = github.calls.length;
          await new Promise((r) => setTimeout(r, ms));
          return github.calls.length === count;
        },
        30_000,
        { what: 'GitHub traffic to stop' },
      );
    },
    async settled(number, turns = 1, timeoutMs = 30_000) {
      let found: import('../../src/tasks/types.js').Task | undefined;
      // The worker's last act for a turn is its closing log note, written after the final forge writes.
      await waitFor(
        async () => {
          found = await forge.store.findByNumber(REPO_REF, number);
          if (!found || found.turns.length < turns) return false;
          if (!found.turns.every((t) => ['completed', 'failed', 'cancelled'].includes(t.state))) return false;
          const events = await forge.store.events(found.id, { count: 100_000 });
          return found.turns.every((t) =>
            events.some(
              (e) => e.turn === t.n && e.kind === 'state' && e.text.startsWith(`turn ${t.n} ${t.state}`),
            ),
          );
        },
        timeoutMs,
        { intervalMs: 50, what: `task on #${number} to settle with ${turns} turn(s)` },
      );
      return found!;
    },
    async close() {
      await forge?.close();
      await github.close();
      await git.close();
      if (!options.redis) await redis.stop();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
  return harness;
}

/**
 * One harness per test file: started before the first test, closed after the last, and the fake
 * GitHub's protocol violations checked after every test. `use` receives the started harness.
 */
export function useHarness(use: (h: Harness) => void, options: HarnessOptions = {}): void {
  let h: Harness | undefined;
  before(async () => {
    h = await startHarness(options);
    use(h);
  });
  after(async () => {
    await h?.close();
  });
  afterEach(() => {
    h?.github.assertNoViolations();
  });
}

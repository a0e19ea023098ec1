import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { after, afterEach, before } from 'node:test';
import { type ForgeOverrides, type RunningForge, startForge } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Conversation, RepoRef } from '../../src/forge/types.js';
import type { Task } from '../../src/tasks/types.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { FakeGitLab, gitServerHooks } from '../kit/fake-gitlab/index.js';
import { type GitServer, startGitServer } from '../kit/git-server.js';
import {
  buildGitLabDelivery,
  issueLabelsChanged,
  mergeRequestEvent,
  noteOnIssue,
  noteOnMergeRequest,
  type ProjectOptions,
  sendGitLabDelivery,
} from '../kit/gitlab-webhooks.js';
import { type RedisServer, startRedis } from '../kit/redis.js';

const AGENT = `${process.execPath} ${resolve('test/fixtures/scripted-agent.mjs')}`;

/** A project in a subgroup: every API path carries it URL-encoded as the project id. */
export const PROJECT = 'acme/platform/widgets';
export const GITLAB_SECRET = 'gitlab-webhook-secret-for-tests-0123456789';
/** The project as Forge's store knows it (enough to look tasks up). */
export const GITLAB_REF: RepoRef = {
  forge: 'gitlab',
  path: PROJECT,
  cloneUrl: '',
  defaultBranch: 'main',
  webUrl: '',
};

export const issueOn = (number: number): Conversation => ({ type: 'issue', number });
export const mrOn = (number: number): Conversation => ({ type: 'change_request', number });

export interface GitLabHarness {
  redis: RedisServer;
  gitlab: FakeGitLab;
  git: GitServer;
  forge: RunningForge;
  logs: string[];
  /** Forge's workspace directory (FORGE_WORKSPACE_DIR). */
  workspace: string;
  webhookUrl: string;
  /** Forge's GitLab user (a project access token's bot user). */
  bot: { id: number; username: string };
  project: ProjectOptions;
  /** Opens an issue in the fake as alice; returns its iid. */
  newIssue(title: string, description?: string): number;
  /**
   * A note by `user` on an issue or merge request, written to the fake and delivered as GitLab's
   * Note Hook. `discussionId` makes it a reply in that merge request thread.
   */
  note(input: {
    on: Conversation;
    body: string;
    user?: string;
    discussionId?: string;
    action?: 'create' | 'update';
    system?: boolean;
    /** When the note says it was written (default now): webhooks may arrive out of order. */
    writtenAt?: Date;
  }): Promise<{ status: number; noteId: number; body: string; idempotencyKey: string }>;
  label(input: {
    iid: number;
    label?: string;
    previous?: string[];
    user?: string;
  }): Promise<{ status: number }>;
  closeMergeRequest(iid: number, merged: boolean): Promise<{ status: number }>;
  /**
   * Delivers a payload as GitLab does, with a fresh `Idempotency-Key` and `X-Gitlab-Event-UUID` unless
   * given; `withoutIdempotencyKey` as GitLab before 17.4 (the returned `idempotencyKey` is then empty).
   */
  deliver(
    event: string,
    payload: unknown,
    options?: {
      token?: string | null;
      idempotencyKey?: string;
      eventUuid?: string;
      withoutIdempotencyKey?: boolean;
    },
  ): Promise<{ status: number; body: string; idempotencyKey: string; eventUuid: string }>;
  /** Waits until no request reached the fake GitLab for `ms`. */
  quiet(ms?: number): Promise<void>;
  /** Waits until the task on `on` has `turns` turns, all finished and logged, and returns it. */
  settled(on: Conversation, turns?: number, timeoutMs?: number): Promise<Task>;
  close(): Promise<void>;
}

export interface GitLabHarnessOptions {
  env?: Record<string, string>;
  overrides?: ForgeOverrides;
}

/**
 * Everything real that can run here — Redis, git over smart HTTP, Forge's HTTP server and worker,
 * the local sandbox and the scripted command agent — around the one fake: GitLab's REST API. Forge
 * runs with GitLab only (no GitHub App configured).
 */
export async function startGitLabHarness(options: GitLabHarnessOptions = {}): Promise<GitLabHarness> {
  const redis = await startRedis();
  let gitlab!: FakeGitLab;
  const git = await startGitServer({
    acceptToken: (token, repoPath, user) => user === 'oauth2' && gitlab.tokenAllows(token, repoPath),
  });
  gitlab = await FakeGitLab.start(gitServerHooks(git));
  const created = gitlab.addProject(PROJECT);
  const bot = gitlab.addUser(`project_${created.id}_bot_${randomBytes(6).toString('hex')}`, {
    name: 'Forge',
    bot: true,
  });
  gitlab.setRole(PROJECT, bot.username, 'developer');
  gitlab.setRole(PROJECT, 'alice', 'developer');
  gitlab.setRole(PROJECT, 'maya', 'maintainer');
  gitlab.setRole(PROJECT, 'rita', 'reporter');
  gitlab.setRole(PROJECT, 'gus', 'guest');
  const token = gitlab.issueToken(bot.username);
  await git.seedRepo(`${PROJECT}.git`, {
    'README.md': '# Widgets\n',
    'src/index.js': 'export const answer = 42;\n',
  });
  const workspace = mkdtempSync(join(tmpdir(), 'forge-e2e-gitlab-'));
  const logs: string[] = [];
  const env = {
    GITLAB_URL: gitlab.url,
    GITLAB_TOKEN: token,
    GITLAB_WEBHOOK_SECRET: GITLAB_SECRET,
    // One bot user speaks for many people here, minutes of activity in seconds: a self-managed
    // instance's generous limits, so the tests wait on Forge, not on GitLab.com's note budget.
    GITLAB_REQUESTS_PER_MINUTE: '100000',
    GITLAB_NOTES_PER_MINUTE: '10000',
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    FORGE_AGENT_COMMAND: AGENT,
    FORGE_WORKSPACE_DIR: workspace,
    // Test files run in parallel: each worker's model gateway takes a free port.
    FORGE_GATEWAY_PORT: '0',
    FORGE_PUBLIC_URL: 'http://forge.test',
    ...options.env,
  };
  const forge = await startForge(loadConfig(env), {
    prefix: `t${randomBytes(4).toString('hex')}:`,
    minWriteIntervalMs: 50,
    // The Redis-booked spacing is the production mechanism (1.1 s); shorter here to keep suites fast.
    gitlabWriteSpacingMs: 100,
    timings: { reconcileIntervalMs: 2000 },
    logDestination: new Writable({
      write(chunk, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
    ...options.overrides,
  });
  const webhookUrl = `${forge.url}/api/gitlab/webhooks`;
  const project: ProjectOptions = {
    path: PROJECT,
    id: created.id,
    // GitLab serves git on the API's origin; the fake passes git requests on to the real git server.
    cloneUrl: gitlab.cloneUrl(PROJECT),
    webUrl: `${gitlab.url}/${PROJECT}`,
    defaultBranch: 'main',
  };
  const userOf = (username: string) => {
    const u = gitlab.addUser(username);
    return { username: u.username, id: u.id, name: u.name };
  };
  const deliver: GitLabHarness['deliver'] = async (event, payload, opts = {}) => {
    const idempotencyKey = opts.idempotencyKey ?? randomUUID();
    const eventUuid = opts.eventUuid ?? randomUUID();
    const delivery = buildGitLabDelivery({
      event,
      payload,
      token: opts.token === null ? undefined : (opts.token ?? GITLAB_SECRET),
      idempotencyKey,
      eventUuid,
      ...(opts.withoutIdempotencyKey ? { withoutIdempotencyKey: true } : {}),
      instance: gitlab.url,
    });
    const res = await sendGitLabDelivery(webhookUrl, delivery);
    return {
      status: res.status,
      body: res.body,
      idempotencyKey: opts.withoutIdempotencyKey ? '' : idempotencyKey,
      eventUuid,
    };
  };

  return {
    redis,
    gitlab,
    git,
    forge,
    logs,
    workspace,
    webhookUrl,
    bot: { id: bot.id, username: bot.username },
    project,
    newIssue(title, description = 'Details.') {
      return gitlab.addIssue(PROJECT, { title, description, author: 'alice' }).iid;
    },
    async note({ on, body, user = 'alice', discussionId, action, system, writtenAt }) {
      const author = userOf(user);
      const note = discussionId
        ? gitlab.replyInThread(PROJECT, discussionId, { body, author: user })
        : gitlab.addNote(
            PROJECT,
            { type: on.type === 'issue' ? 'issue' : 'merge_request', iid: on.number },
            {
              body,
              author: user,
              ...(system ? { system } : {}),
            },
          );
      const noteInput = {
        id: note.id,
        body,
        ...(action ? { action } : {}),
        ...(system ? { system } : {}),
        ...(writtenAt ? { createdAt: writtenAt } : {}),
      };
      let payload: unknown;
      if (on.type === 'issue') {
        const issue = gitlab.issue(PROJECT, on.number);
        payload = noteOnIssue({
          project,
          user: author,
          note: noteInput,
          issue: { iid: on.number, title: issue?.title ?? 'Issue', description: issue?.description ?? '' },
        });
      } else {
        const mr = gitlab.mergeRequest(PROJECT, on.number);
        payload = noteOnMergeRequest({
          project,
          user: author,
          note: noteInput,
          mergeRequest: {
            iid: on.number,
            title: mr.title,
            description: mr.description,
            sourceBranch: mr.sourceBranch,
            sourceProjectId: mr.sourceProjectId,
          },
          ...(discussionId ? { discussionId } : {}),
        });
      }
      const res = await deliver('Note Hook', payload);
      return { status: res.status, noteId: note.id, body: res.body, idempotencyKey: res.idempotencyKey };
    },
    async label({ iid, label = 'forge', previous = [], user = 'alice' }) {
      const issue = gitlab.issue(PROJECT, iid);
      const payload = issueLabelsChanged({
        project,
        user: userOf(user),
        issue: { iid, title: issue?.title ?? 'Issue', description: issue?.description ?? '' },
        previous,
        current: [...previous, label],
      });
      return deliver('Issue Hook', payload);
    },
    async closeMergeRequest(iid, merged) {
      const mr = gitlab.mergeRequest(PROJECT, iid);
      gitlab.setMergeRequestState(PROJECT, iid, merged ? 'merged' : 'closed');
      const payload = mergeRequestEvent({
        project,
        user: userOf('maya'),
        iid,
        action: merged ? 'merge' : 'close',
        sourceBranch: mr.sourceBranch,
      });
      return deliver('Merge Request Hook', payload);
    },
    deliver,
    async quiet(ms = 600) {
      await waitFor(
        async () => {
          const count = gitlab.calls.length;
          await new Promise((r) => setTimeout(r, ms));
          return gitlab.calls.length === count;
        },
        30_000,
        { what: 'GitLab traffic to stop' },
      );
    },
    async settled(on, turns = 1, timeoutMs = 30_000) {
      let found: Task | undefined;
      await waitFor(
        async () => {
          found = await forge.store.findByNumber(GITLAB_REF, on);
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
        { intervalMs: 50, what: `task on ${on.type} ${on.number} to settle with ${turns} turn(s)` },
      );
      return found!;
    },
    async close() {
      await forge.close();
      await gitlab.close();
      await git.close();
      await redis.stop();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

/** One harness per test file; the fake GitLab's protocol violations are checked after every test. */
export function useGitLabHarness(use: (h: GitLabHarness) => void, options: GitLabHarnessOptions = {}): void {
  let h: GitLabHarness | undefined;
  before(async () => {
    h = await startGitLabHarness(options);
    use(h);
  });
  after(async () => {
    await h?.close();
  });
  afterEach(() => {
    h?.gitlab.assertNoViolations();
  });
}

import type { CommitStatus } from '../kit/fake-gitlab/state.js';
import type { CheckView, DriverOptions, ForgeDriver, Where } from './driver.js';
import {
  GITLAB_REF,
  GITLAB_SECRET,
  type GitLabHarness,
  type GitLabHarnessOptions,
  PROJECT,
  startGitLabHarness,
} from './gitlab-harness.js';

/** Starts the GitLab harness (gitlab-harness.ts) and drives it through the forge-neutral interface. */
export async function startGitLabDriver(
  options: DriverOptions & GitLabHarnessOptions = {},
): Promise<GitLabDriver> {
  return gitlabDriver(await startGitLabHarness(options));
}

export type GitLabDriver = ForgeDriver & { readonly h: GitLabHarness };

const noteable = (on: Where) => ({
  type: on.type === 'issue' ? ('issue' as const) : ('merge_request' as const),
  iid: on.number,
});

/** GitLab's commit status states in the forge-neutral words of a check. */
const STATES: Record<CommitStatus, CheckView['state']> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failed: 'failure',
  canceled: 'cancelled',
  skipped: 'skipped',
};

export function gitlabDriver(h: GitLabHarness): GitLabDriver {
  const comments = (on: Where) =>
    h.gitlab
      .notes(PROJECT, noteable(on))
      .map((n) => ({ id: n.id, body: n.body, author: h.gitlab.usernameOf(n.authorId) }));
  return {
    kind: 'gitlab',
    h,
    forge: h.forge,
    git: h.git,
    gitRepo: `${PROJECT}.git`,
    settingsPath: '.gitlab/forge.yml',
    botName: h.bot.username,
    newIssue: (title, body) => h.newIssue(title, body),
    async ask(on, body, user, writtenAt) {
      const res = await h.note({ on, body, ...(user ? { user } : {}), ...(writtenAt ? { writtenAt } : {}) });
      return { status: res.status, commentId: res.noteId };
    },
    find: (on) => h.forge.store.findByNumber(GITLAB_REF, on),
    settled: (on, turns, timeoutMs) => h.settled(on, turns, timeoutMs),
    comments,
    sticky: (on, taskId) =>
      comments(on).find((c) => c.body.includes(`<!-- forge:task:${taskId}:${on.number} -->`)),
    reactions: (noteId) => h.gitlab.awards(noteId).map((a) => a.name),
    changeRequests: () =>
      h.gitlab.mergeRequests(PROJECT).map((m) => ({
        number: m.iid,
        branch: m.sourceBranch,
        title: m.title,
        body: m.description,
        // GitLab reads a draft from the title.
        draft: /^(Draft:|\[Draft\]|\(Draft\))/i.test(m.title),
        state: m.state === 'opened' || m.state === 'locked' ? 'open' : m.state,
      })),
    checks: (sha) =>
      h.gitlab
        .statuses(PROJECT)
        .filter((s) => s.sha === sha)
        .map((s) => ({ name: s.name, state: STATES[s.status], title: s.description ?? '' })),
    closeChangeRequest: (number, merged) => h.closeMergeRequest(number, merged),
    // The fake knows every token it issued, Forge's GITLAB_TOKEN among them.
    secrets: () => [GITLAB_SECRET, ...h.gitlab.state.tokens.keys()],
    logs: h.logs,
    workspace: h.workspace,
    redisUrl: h.redis.url,
    apiBodies: () => h.gitlab.calls.map((c) => JSON.stringify(c.attrs)),
    quiet: () => h.quiet(),
    assertNoViolations: () => h.gitlab.assertNoViolations(),
    close: () => h.close(),
  };
}

import type { CheckRunState } from '../kit/fake-github/state.js';
import type { CheckView, DriverOptions, ForgeDriver } from './driver.js';
import { type Harness, type HarnessOptions, REPO, REPO_REF, SECRET, startHarness } from './harness.js';

/** The bot user the fake GitHub App comments as. */
const BOT = 'forge-test[bot]';

/** Starts the GitHub harness (harness.ts) and drives it through the forge-neutral interface. */
export async function startGitHubDriver(options: DriverOptions & HarnessOptions = {}): Promise<GitHubDriver> {
  return githubDriver(await startHarness(options));
}

export type GitHubDriver = ForgeDriver & { readonly h: Harness };

export function githubDriver(h: Harness): GitHubDriver {
  return {
    kind: 'github',
    h,
    forge: h.forge,
    git: h.git,
    gitRepo: `${REPO}.git`,
    settingsPath: '.github/forge.yml',
    botName: BOT,
    newIssue: (title, body) => h.newIssue(title, body),
    async ask(on, body, user, writtenAt) {
      const res = await h.comment({
        number: on.number,
        body,
        ...(user ? { user } : {}),
        ...(writtenAt ? { writtenAt } : {}),
        ...(on.type === 'change_request' ? { isPullRequest: true } : {}),
      });
      return { status: res.status, commentId: res.commentId };
    },
    find: (on) => h.forge.store.findByNumber(REPO_REF, on.number),
    settled: (on, turns, timeoutMs) => h.settled(on.number, turns, timeoutMs),
    comments: (on) =>
      h.github.comments(REPO, on.number).map((c) => ({ id: c.id, body: c.body, author: c.user })),
    sticky: (on, taskId) =>
      h.github
        .comments(REPO, on.number)
        .filter((c) => c.body.includes(`<!-- forge:task:${taskId}:${on.number} -->`))
        .map((c) => ({ id: c.id, body: c.body, author: c.user }))[0],
    reactions: (commentId) => h.github.reactions(REPO, commentId).map((r) => r.content),
    changeRequests: () =>
      h.github.pulls(REPO).map((p) => ({
        number: p.number,
        branch: p.head,
        title: p.title,
        body: p.body ?? '',
        draft: p.draft,
        state: p.merged ? 'merged' : p.state,
      })),
    checks: (sha) =>
      h.github
        .checkRuns(REPO)
        .filter((c) => c.headSha === sha)
        .map((c) => ({
          name: c.name,
          state: checkState(c),
          title: c.output.title ?? '',
          ...(c.output.summary ? { summary: c.output.summary } : {}),
        })),
    closeChangeRequest: (number, merged) => h.closePull(number, merged),
    secrets: () => [
      SECRET,
      h.github.privateKeyPem.split('\n')[1]!,
      ...h.github.issuedTokens().map((t) => t.token),
    ],
    logs: h.logs,
    workspace: h.workspace,
    redisUrl: h.redis.url,
    apiBodies: () => h.github.calls.map((c) => JSON.stringify(c.body ?? '')),
    quiet: () => h.quiet(),
    assertNoViolations: () => h.github.assertNoViolations(),
    close: () => h.close(),
  };
}

function checkState(c: CheckRunState): CheckView['state'] {
  if (c.status !== 'completed') return c.status === 'in_progress' ? 'running' : 'pending';
  return (c.conclusion ?? 'neutral') as CheckView['state'];
}

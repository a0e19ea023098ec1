import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { GitHubForge } from '../../src/forge/github/forge.js';
import type { RepoRef } from '../../src/forge/types.js';
import { FakeGitHub } from '../kit/fake-github/index.js';
import { installationOctokit, startGitHubWithGit } from '../kit/github-with-git.js';
import { type ContractEnv, forgeContract } from './forge-contract.js';

/**
 * GitHubForge against the strict fake GitHub REST API, with a real git smart-HTTP server that
 * accepts exactly the installation tokens the fake issued (wired like test/e2e/harness.ts).
 */

const OWNER = 'acme';
const NAME = 'widgets';
const REPO = `${OWNER}/${NAME}`;
const INSTALLATION = 77;
const run = promisify(execFile);

async function setup(): Promise<ContractEnv> {
  const { github, git } = await startGitHubWithGit();
  github.addRepo({ owner: OWNER, name: NAME, installationId: INSTALLATION });
  const mainSha = await git.seedRepo(`${REPO}.git`, { 'README.md': '# Widgets\n' });

  const octokit = await installationOctokit(github, INSTALLATION);
  const repo: RepoRef = {
    forge: 'github',
    installationId: INSTALLATION,
    path: REPO,
    cloneUrl: git.cloneUrl(`${REPO}.git`),
    defaultBranch: 'main',
    webUrl: `${github.url}/${REPO}`,
  };
  const bare = join(git.root, `${REPO}.git`);
  let teams = 0;

  return {
    forge: new GitHubForge(octokit, repo),
    botLogin: `${github.appSlug}[bot]`,
    expectedWords: {
      changeRequest: 'pull request',
      changeRequestShort: 'PR',
      changeRequestRef3: '#3',
      issueRef3: '#3',
      repository: 'repository',
      settingsPath: '.github/forge.yml',
      noreplyEmailAlice42: '42+alice@users.noreply.github.com',
    },
    sharedNumbers: true,
    reviewBodies: true,
    // GitHub's webhooks mark Apps (Forge's own included) with `sender.type: Bot`.
    selfActor: { login: `${github.appSlug}[bot]`, id: 9_000_001, isBot: true },
    actorFor: (login) => ({ login, id: 1000 + login.length, isBot: false }),
    async seedBotUser() {
      return { login: 'dependabot[bot]', id: 49_699_333, isBot: true };
    },
    async seedIssue(title, body) {
      return github.addIssue(REPO, { title, body, user: 'alice' }).number;
    },
    // Issues and pull requests share numbers and the comment API on GitHub.
    async seedComment(on, body, author) {
      return github.addComment(REPO, on.number, { body, user: author }).id;
    },
    async deleteComment(id) {
      await octokit.rest.issues.deleteComment({ owner: OWNER, repo: NAME, comment_id: id });
    },
    async seedBranch(name) {
      await run('git', ['--git-dir', bare, 'update-ref', `refs/heads/${name}`, mainSha]);
      return git.pushAs(
        `${REPO}.git`,
        name,
        { [`${name.replace(/\//g, '-')}.txt`]: `${name}\n` },
        `Work on ${name}`,
      );
    },
    async seedFile(branch, path, content) {
      await git.pushAs(`${REPO}.git`, branch, { [path]: content }, `Add ${path}`);
    },
    async seedTeam(members) {
      const slug = `team-${++teams}`;
      github.addTeam(OWNER, slug, members);
      return `${OWNER}/${slug}`;
    },
    async setPermission(login, permission) {
      github.setPermission(REPO, login, permission);
    },
    async comments(on) {
      return github.comments(REPO, on.number).map((c) => ({ id: c.id, body: c.body, author: c.user }));
    },
    async reactions(commentId) {
      return github.reactions(REPO, commentId).map((r) => ({ content: r.content, author: r.user }));
    },
    async checks() {
      return github.checkRuns(REPO).map((c) => ({
        id: c.id,
        sha: c.headSha,
        status: c.status,
        conclusion: c.conclusion,
        title: c.output.title,
      }));
    },
    async changeRequest(number) {
      const pull = github.pulls(REPO).find((p) => p.number === number);
      if (!pull) throw new Error(`no pull request #${number}`);
      return {
        title: pull.title,
        body: pull.body ?? '',
        draft: pull.draft,
        head: pull.head,
        base: pull.base,
      };
    },
    async seedThread(number, body, author) {
      return String(
        github.addReviewComment(REPO, number, { body, user: author, path: 'README.md', line: 1 }).id,
      );
    },
    async seedThreadReply(number, threadId, body, author) {
      github.addReviewComment(REPO, number, { body, user: author, inReplyTo: Number(threadId) });
    },
    async resolveThread(_number, threadId) {
      github.resolveThread(REPO, Number(threadId));
    },
    async seedReview(number, body, author, verdict) {
      const state =
        verdict === 'approved'
          ? 'APPROVED'
          : verdict === 'changes_requested'
            ? 'CHANGES_REQUESTED'
            : 'COMMENTED';
      github.addReview(REPO, number, { body, user: author, state });
    },
    async threadComments(number, threadId) {
      return github
        .reviewComments(REPO, number)
        .filter((c) => String(c.id) === threadId || String(c.inReplyToId) === threadId)
        .map((c) => ({ id: c.id, body: c.body, author: c.user }));
    },
    async markFork(number) {
      github.setPullFork(REPO, number, `mallory/${NAME}`);
    },
    afterEach() {
      // Forget them either way, so one test's violations are not blamed on the next.
      const seen = github.takeViolations();
      if (seen.length) {
        github.violations.push(...seen);
        try {
          github.assertNoViolations();
        } finally {
          github.takeViolations();
        }
      }
    },
    async close() {
      await github.close();
      await git.close();
    },
  };
}

forgeContract('GitHubForge (fake GitHub REST and GraphQL APIs, real git server)', setup);

/** What only GitHub has: pending team invitations, and the organization `members` permission. */
describe('GitHubForge on GitHub specifics', () => {
  const repo: RepoRef = {
    forge: 'github',
    installationId: INSTALLATION,
    path: REPO,
    cloneUrl: 'http://127.0.0.1:1/unused.git',
    defaultBranch: 'main',
    webUrl: 'http://127.0.0.1:1',
  };
  async function forgeOn(github: FakeGitHub): Promise<GitHubForge> {
    return new GitHubForge(await installationOctokit(github, INSTALLATION), repo);
  }

  test('team membership: a pending invitation is none; without the members permission the check fails', async () => {
    const github = await FakeGitHub.start();
    const refused = await FakeGitHub.start();
    try {
      for (const fake of [github, refused]) {
        fake.addRepo({ owner: OWNER, name: NAME, installationId: INSTALLATION });
        fake.addTeam(OWNER, 'reviewers', ['kim', { login: 'lee', state: 'pending' }]);
      }
      const forge = await forgeOn(github);
      assert.equal(await forge.isTeamMember('acme/reviewers', 'kim'), true);
      assert.equal(await forge.isTeamMember('acme/reviewers', 'lee'), false, 'invited, not yet a member');
      assert.equal(await forge.isTeamMember('other-org/reviewers', 'kim'), false, 'another organization');
      assert.deepEqual(
        [...new Set(github.calls.filter((c) => c.method === 'GET').map((c) => c.operationId))],
        ['teams/get-membership-for-user-in-org'],
      );
      github.assertNoViolations();

      // An organization owner has not approved the App's new `members` permission yet.
      refused.setGrantedPermissions(INSTALLATION, {
        checks: 'write',
        contents: 'write',
        issues: 'write',
        metadata: 'read',
        pull_requests: 'write',
      });
      await assert.rejects(
        (await forgeOn(refused)).isTeamMember('acme/reviewers', 'kim'),
        (error: unknown) => {
          assert.equal((error as { status?: number }).status, 403);
          return true;
        },
      );
    } finally {
      await github.close();
      await refused.close();
    }
  });
});

import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { FakeGitHub } from './fake-github/index.js';
import { type GitServer, startGitServer } from './git-server.js';

/**
 * The strict fake GitHub and the real git server, wired as github.com is: git accepts the tokens the
 * fake issued for the repository, and the fake answers branch, head and file questions from git.
 */
export async function startGitHubWithGit(): Promise<{ github: FakeGitHub; git: GitServer }> {
  let github!: FakeGitHub;
  const git = await startGitServer({
    acceptToken: (token, repoPath) => github.tokenAllows(token, repoPath.replace(/\.git$/, '')),
  });
  github = await FakeGitHub.start({
    // Repositories that exist only on the fake (e.g. a fork) have no branches on the git server.
    branchExists: async (repo, branch) => branch in (await git.branches(`${repo}.git`).catch(() => ({}))),
    headSha: async (repo, branch) =>
      (await git.branches(`${repo}.git`).catch(() => ({}) as Record<string, string>))[branch],
    fileAt: (repo, ref, path) => git.fileAt(`${repo}.git`, ref, path).catch(() => undefined),
  });
  return { github, git };
}

/**
 * Probot's Octokit with request throttling off. Probot (via @octokit/plugin-throttling) keeps writes
 * to one installation at least 1 s apart, which would make suites about what Forge asks GitHub take
 * minutes; the e2e tests keep the real throttling. (`ProbotOctokit.defaults({ throttle: { enabled:
 * false } })` is not enough: Probot passes its own `throttle` options object, which replaces ours
 * before ProbotOctokit re-enables it by default.)
 */
const UnthrottledOctokit = ProbotOctokit.defaults(
  // biome-ignore lint/suspicious/noExplicitAny: Octokit's constructor options are untyped here
  (options: any) => ({ ...options, throttle: { ...options.throttle, enabled: false } }),
) as typeof ProbotOctokit;

/** An installation's Octokit against the fake GitHub, unthrottled. */
export async function installationOctokit(github: FakeGitHub, installationId: number) {
  const probot = new Probot({
    appId: github.appId,
    privateKey: github.privateKeyPem,
    baseUrl: github.apiUrl,
    secret: 'x',
    log: pino({ level: 'silent' }),
    Octokit: UnthrottledOctokit,
  });
  return probot.auth(installationId);
}

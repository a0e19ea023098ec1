import type { Logger } from 'pino';
import { Probot, type ProbotOctokit } from 'probot';
import type { Forge, ForgeFactory, RepoRef } from '../types.js';
import { GitHubForge } from './forge.js';

export interface GitHubAppOptions {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  /** `https://api.github.com` or `<protocol>://<GHE_HOST>/api/v3`. */
  baseUrl: string;
  /** Probot's Octokit class, e.g. with Redis-backed throttling (see octokit.ts). */
  Octokit?: typeof ProbotOctokit;
  log: Logger;
}

/** Probot, configured the way Forge uses it: webhooks verified by it, API calls made through it. */
export function createProbot(options: GitHubAppOptions): Probot {
  return new Probot({
    appId: options.appId,
    privateKey: options.privateKey,
    secret: options.webhookSecret,
    baseUrl: options.baseUrl,
    log: options.log.child({ name: 'probot' }),
    ...(options.Octokit ? { Octokit: options.Octokit } : {}),
  });
}

export class GitHubForgeFactory implements ForgeFactory {
  constructor(private readonly probot: Probot) {}

  async forRepo(repo: RepoRef): Promise<Forge> {
    if (repo.forge !== 'github' || repo.installationId === undefined) {
      throw new Error(`not a GitHub App repository: ${repo.path}`);
    }
    return new GitHubForge(await this.probot.auth(repo.installationId), repo);
  }
}

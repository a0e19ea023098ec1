import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Forge, ForgeFactory, ForgeWords, RepoRef } from '../types.js';
import { waitForWriteSlot } from '../write-slots.js';
import { createGitLabClient, type GitLabClient, type GitLabRateLimits } from './client.js';
import { GitLabForge, type GitLabUser } from './forge.js';
import { gitlabWords, onInstance } from './map.js';

export interface GitLabFactoryOptions {
  /** Instance URL (`https://gitlab.com` or self-managed, path prefix included). */
  url: string;
  token: string;
  /** Write spacing shared by every Forge process (omit to leave writes unspaced, e.g. in tests). */
  writes?: { redis: Redis; prefix: string; spacingMs?: number };
  /** A prebuilt client (tests); by default one with Forge's rate limits. */
  client?: GitLabClient;
  /** The bot user's limits on the instance (default GitLab.com's). */
  limits?: GitLabRateLimits;
  /** For warnings about what a request had to leave out (a task link too long for a commit status). */
  log?: Pick<Logger, 'warn'>;
}

/**
 * Builds a GitLabForge for any project on one GitLab instance, with one API client (and its rate
 * limiters) for all of them. The token's own user is fetched on first need and kept: it is how
 * Forge recognises its own notes.
 */
export class GitLabForgeFactory implements ForgeFactory {
  readonly words: ForgeWords;
  private readonly api: GitLabClient;
  private self?: Promise<GitLabUser>;

  constructor(private readonly options: GitLabFactoryOptions) {
    this.api =
      options.client ??
      createGitLabClient({
        url: options.url,
        token: options.token,
        ...(options.limits ? { limits: options.limits } : {}),
      });
    this.words = gitlabWords(options.url);
  }

  async forRepo(repo: RepoRef): Promise<Forge> {
    if (repo.forge !== 'gitlab') throw new Error(`not a GitLab project: ${repo.path}`);
    // The token goes to the clone URL's host: only ever to this GitLab instance.
    if (!onInstance(repo.cloneUrl, this.options.url))
      throw new Error(
        `the clone URL of ${repo.path} is not on ${this.options.url}; Forge does not send its token there`,
      );
    return new GitLabForge({
      api: this.api,
      repo,
      words: this.words,
      token: this.options.token,
      self: () => this.currentUser(),
      beforeWrite: () => this.beforeWrite(),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
  }

  /** `GET /user` once; a failure is not remembered, so the next call asks again. */
  currentUser(): Promise<GitLabUser> {
    this.self ??= this.api.users.showCurrentUser().then(
      (user) => ({ id: (user as { id: number }).id, username: (user as { username: string }).username }),
      (error: unknown) => {
        this.self = undefined;
        throw error;
      },
    );
    return this.self;
  }

  /** Whether a project's URLs (from a webhook) are on this instance. */
  isOnInstance(url: string): boolean {
    return onInstance(url, this.options.url);
  }

  private async beforeWrite(): Promise<void> {
    const writes = this.options.writes;
    if (!writes) return;
    const host = new URL(this.options.url).host;
    await waitForWriteSlot(writes.redis, `${writes.prefix}gitlab-writes:${host}`, writes.spacingMs ?? 1100);
  }
}

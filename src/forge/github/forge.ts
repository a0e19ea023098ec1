import type { ProbotOctokit } from 'probot';
import type {
  Actor,
  ChangeRequest,
  CheckReport,
  CommentRef,
  Conversation,
  Forge,
  ForgeWords,
  GitCredentials,
  Issue,
  RepoPermission,
  RepoRef,
  ReviewFeedback,
} from '../types.js';
import { mapPermission, mapPull, repoOwnerName } from './map.js';
import { listReviewFeedback } from './review-feedback.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

export const GITHUB_WORDS: ForgeWords = {
  changeRequest: 'pull request',
  changeRequestShort: 'PR',
  changeRequestRef: (n) => `#${n}`,
  issueRef: (n) => `#${n}`,
  repository: 'repository',
  settingsPath: '.github/forge.yml',
  writeAccess: 'write access to this repository',
  accessHint: 'Check that the App is installed on this repository with the permissions listed in app.yml.',
  noreplyEmail: (login, id) => `${id}+${login}@users.noreply.github.com`,
  // GitHub refuses pushes that touch workflows unless the App holds the `workflows` permission.
  unpushable: {
    matches: (path) => path.startsWith('.github/workflows/'),
    why: 'Forge may not change workflow files (that needs the `workflows` permission, which the App does not hold)',
  },
};

export const CHECK_NAME = 'Forge';

/** The Forge interface over GitHub's REST API (and GraphQL for review feedback), for one installation and repository. */
export class GitHubForge implements Forge {
  readonly kind = 'github' as const;
  readonly words = GITHUB_WORDS;
  private readonly owner: string;
  private readonly name: string;

  constructor(
    private readonly octokit: Octokit,
    readonly repo: RepoRef,
  ) {
    [this.owner, this.name] = repoOwnerName(repo.path);
  }

  private get r() {
    return { owner: this.owner, repo: this.name };
  }

  async getPermission(login: string): Promise<RepoPermission> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({
        ...this.r,
        username: login,
      });
      return mapPermission(data.permission, data.role_name);
    } catch (error) {
      if (status(error) === 404) return 'none';
      throw error;
    }
  }

  /** An invitation not yet accepted (`pending`) is no membership. */
  async isTeamMember(team: string, login: string): Promise<boolean> {
    const [org, slug, ...rest] = team.split('/');
    if (!org || !slug || rest.length) return false;
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: slug,
        username: login,
      });
      return data.state === 'active';
    } catch (error) {
      // Not a member, or no such team (GitHub does not say which).
      if (status(error) === 404) return false;
      throw error;
    }
  }

  /** GitHub's webhooks say it: `sender.type` is `Bot` for Apps, Forge's own included. */
  async isBot(actor: Actor): Promise<boolean> {
    return actor.isBot;
  }

  async getIssue(number: number): Promise<Issue> {
    const { data } = await this.octokit.rest.issues.get({ ...this.r, issue_number: number });
    return {
      number: data.number,
      title: data.title,
      body: data.body ?? '',
      url: data.html_url,
      isChangeRequest: Boolean(data.pull_request),
    };
  }

  async getChangeRequest(number: number): Promise<ChangeRequest> {
    const { data } = await this.octokit.rest.pulls.get({ ...this.r, pull_number: number });
    return mapPull(data);
  }

  async findOpenChangeRequest(headBranch: string): Promise<ChangeRequest | undefined> {
    const { data } = await this.octokit.rest.pulls.list({
      ...this.r,
      head: `${this.owner}:${headBranch}`,
      state: 'open',
    });
    const pull = data.find((p) => p.head.ref === headBranch);
    return pull ? mapPull(pull) : undefined;
  }

  async branchExists(branch: string): Promise<boolean> {
    try {
      await this.octokit.rest.repos.getBranch({ ...this.r, branch });
      return true;
    } catch (error) {
      if (status(error) === 404) return false;
      throw error;
    }
  }

  async readFile(path: string, ref: string): Promise<string | undefined> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({ ...this.r, path, ref });
      // A directory comes back as a list, a symlink or submodule without content: not a file.
      if (Array.isArray(data) || data.type !== 'file' || typeof data.content !== 'string') return undefined;
      return Buffer.from(data.content, (data.encoding ?? 'base64') as BufferEncoding).toString('utf8');
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async addReaction(comment: CommentRef, reaction: 'eyes'): Promise<void> {
    // GitHub has no reactions on reviews, and a review id is no issue comment id: reacting by it
    // could land on someone else's comment. The sticky comment acknowledges the review instead.
    if (comment.isReview) return;
    if (comment.place.type === 'review_thread') {
      await this.octokit.rest.reactions.createForPullRequestReviewComment({
        ...this.r,
        comment_id: comment.id,
        content: reaction,
      });
    } else {
      await this.octokit.rest.reactions.createForIssueComment({
        ...this.r,
        comment_id: comment.id,
        content: reaction,
      });
    }
  }

  // Issues and pull requests share one number sequence and one comment API on GitHub.
  async postComment(on: Conversation, body: string): Promise<{ id: number }> {
    const { data } = await this.octokit.rest.issues.createComment({
      ...this.r,
      issue_number: on.number,
      body,
    });
    return { id: data.id };
  }

  async replyInThread(number: number, threadId: string, body: string): Promise<{ id: number }> {
    // GitHub Apps may not call the review-comment replies endpoint; a review comment with
    // `in_reply_to` lands in the same thread.
    const { data } = await this.octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/comments', {
      ...this.r,
      pull_number: number,
      body,
      in_reply_to: Number(threadId),
    } as never);
    return { id: (data as { id: number }).id };
  }

  async listReviewFeedback(number: number): Promise<ReviewFeedback> {
    return listReviewFeedback(
      (query, variables) => this.octokit.graphql(query, variables),
      this.owner,
      this.name,
      number,
    );
  }

  async ensureComment(
    on: Conversation,
    marker: string,
    body: string,
    knownId?: number,
  ): Promise<{ id: number }> {
    const text = body.includes(marker) ? body : `${marker}\n${body}`;
    if (knownId !== undefined) {
      try {
        await this.octokit.rest.issues.updateComment({ ...this.r, comment_id: knownId, body: text });
        return { id: knownId };
      } catch (error) {
        if (status(error) !== 404) throw error;
      }
    }
    const existing = await this.findCommentWith(on.number, marker);
    if (existing !== undefined) {
      await this.octokit.rest.issues.updateComment({ ...this.r, comment_id: existing, body: text });
      return { id: existing };
    }
    return this.postComment(on, text);
  }

  private async findCommentWith(issueNumber: number, marker: string): Promise<number | undefined> {
    const pages = this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
      ...this.r,
      issue_number: issueNumber,
      per_page: 100,
    });
    for await (const page of pages) {
      // Only a bot's comment: a person who pastes a marker must not get Forge to edit their comment.
      const found = page.data.find((c) => c.user?.type === 'Bot' && c.body?.includes(marker));
      if (found) return found.id;
    }
    return undefined;
  }

  async reportCheck(report: CheckReport, knownId?: number): Promise<{ id: number }> {
    const output = { title: report.title, summary: truncate(report.summary, 65_000) };
    const completed = report.status === 'completed';
    const fields = {
      status: report.status,
      ...(completed
        ? { conclusion: report.conclusion ?? 'neutral', completed_at: new Date().toISOString() }
        : {}),
      output,
      ...(report.detailsUrl ? { details_url: report.detailsUrl } : {}),
    };
    if (knownId !== undefined) {
      await this.octokit.rest.checks.update({ ...this.r, check_run_id: knownId, ...fields });
      return { id: knownId };
    }
    const { data } = await this.octokit.rest.checks.create({
      ...this.r,
      name: CHECK_NAME,
      head_sha: report.sha,
      external_id: report.externalId,
      started_at: new Date().toISOString(),
      ...fields,
    });
    return { id: data.id };
  }

  async createChangeRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
    draft: boolean;
  }): Promise<ChangeRequest> {
    try {
      const { data } = await this.octokit.rest.pulls.create({ ...this.r, ...input });
      return mapPull(data);
    } catch (error) {
      // A retried job may find the pull request it opened the first time.
      if (status(error) === 422) {
        const existing = await this.findOpenChangeRequest(input.head);
        if (existing) return existing;
      }
      throw error;
    }
  }

  async updateChangeRequest(number: number, input: { title?: string; body?: string }): Promise<void> {
    await this.octokit.rest.pulls.update({ ...this.r, pull_number: number, ...input });
  }

  async gitCredentials(): Promise<GitCredentials> {
    // Probot hands the App auth strategy a request function without the GHE base URL, so a direct
    // `auth()` would ask api.github.com for the token. A request through the installation client
    // mints it with the right base URL and caches it; `auth()` then returns the cached token.
    await this.octokit.rest.repos.get(this.r);
    const auth = (await this.octokit.auth({ type: 'installation' })) as { token: string };
    return { username: 'x-access-token', password: auth.token };
  }
}

function status(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : undefined;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}\n\n…(truncated)`;
}

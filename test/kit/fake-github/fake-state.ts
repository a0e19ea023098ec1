import { nodeId } from './shapes.js';
import {
  type CheckRunState,
  type CommentState,
  fakeSha,
  type IssueState,
  now,
  type ReactionState,
  type RepoState,
  type ReviewCommentState,
  type Role,
  type State,
} from './state.js';

export interface PullView {
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  head: string;
  headRepo: string;
  fork: boolean;
  base: string;
  draft: boolean;
  merged: boolean;
}

/**
 * The test-facing half of the fake: seeding GitHub state and reading it back. `FakeGitHub` adds the
 * HTTP server on top; the split only keeps each file small.
 */
export class FakeGitHubState {
  constructor(protected readonly state: State) {}

  addRepo(input: {
    owner: string;
    name: string;
    defaultBranch?: string;
    installationId: number;
    private?: boolean;
  }): { fullName: string; id: number } {
    const fullName = `${input.owner}/${input.name}`;
    const repo: RepoState = {
      id: this.state.id(),
      owner: input.owner,
      name: input.name,
      fullName,
      defaultBranch: input.defaultBranch ?? 'main',
      installationId: input.installationId,
      private: input.private ?? false,
      fork: false,
      createdAt: now(),
      permissions: new Map([[input.owner.toLowerCase(), 'admin']]),
      branches: new Map(),
      nextNumber: 1,
    };
    this.state.repos.set(fullName.toLowerCase(), repo);
    return { fullName, id: repo.id };
  }

  setPermission(repo: string, login: string, role: Role): void {
    this.repo(repo).permissions.set(login.toLowerCase(), role);
  }

  /** Declare a branch (used when no branchExists/headSha hook is given). */
  setBranch(repo: string, branch: string, sha: string = fakeSha(repo, branch, String(Date.now()))): void {
    this.repo(repo).branches.set(branch, sha);
  }

  addIssue(
    repo: string,
    input: { number?: number; title: string; body?: string; user: string; labels?: string[] },
  ): { number: number; id: number } {
    const r = this.repo(repo);
    const number = input.number ?? r.nextNumber;
    if (this.state.issue(r.fullName, number)) throw new Error(`${repo}#${number} already exists`);
    r.nextNumber = Math.max(r.nextNumber, number + 1);
    const at = now();
    const issue: IssueState = {
      id: this.state.id(),
      repo: r.fullName,
      number,
      title: input.title,
      body: input.body ?? null,
      user: input.user,
      state: 'open',
      labels: input.labels ?? [],
      createdAt: at,
      updatedAt: at,
      closedAt: null,
    };
    this.state.putIssue(issue);
    return { number, id: issue.id };
  }

  /** A pull request opened by someone else (e.g. a fork PR: `headRepo: 'mallory/widgets'`). */
  addPull(
    repo: string,
    input: {
      number?: number;
      title: string;
      body?: string;
      user: string;
      head: string;
      base?: string;
      headRepo?: string;
      headSha?: string;
      draft?: boolean;
    },
  ): { number: number } {
    const r = this.repo(repo);
    const { number } = this.addIssue(repo, input);
    const issue = this.state.issue(r.fullName, number) as IssueState;
    const headRepo = input.headRepo ?? r.fullName;
    issue.pull = {
      id: this.state.id(),
      head: input.head,
      headRepo,
      headFork: headRepo.toLowerCase() !== r.fullName.toLowerCase(),
      headSha: input.headSha,
      base: input.base ?? r.defaultBranch,
      draft: input.draft ?? false,
      merged: false,
      mergedAt: null,
      maintainerCanModify: false,
    };
    return { number };
  }

  /** Mark a pull request as coming from a fork (`head.repo.full_name` differs, `head.repo.fork: true`). */
  setPullFork(repo: string, number: number, headRepo: string): void {
    const pull = this.pull(repo, number);
    pull.headRepo = headRepo;
    pull.headFork = headRepo.toLowerCase() !== this.repo(repo).fullName.toLowerCase();
  }

  setPullHeadSha(repo: string, number: number, sha: string | undefined): void {
    this.pull(repo, number).headSha = sha;
  }

  mergePull(repo: string, number: number): void {
    const issue = this.state.issue(this.repo(repo).fullName, number);
    if (!issue?.pull) throw new Error(`${repo}#${number} is not a pull request`);
    Object.assign(issue, { state: 'closed', closedAt: now() });
    Object.assign(issue.pull, { merged: true, mergedAt: now() });
  }

  /** Someone closes a pull request without merging it. */
  closePull(repo: string, number: number): void {
    const issue = this.state.issue(this.repo(repo).fullName, number);
    if (!issue?.pull) throw new Error(`${repo}#${number} is not a pull request`);
    Object.assign(issue, { state: 'closed', closedAt: now() });
  }

  addComment(repo: string, issueNumber: number, input: { body: string; user: string }): { id: number } {
    const r = this.repo(repo);
    if (!this.state.issue(r.fullName, issueNumber)) throw new Error(`${repo}#${issueNumber} does not exist`);
    const at = now();
    const c: CommentState = {
      id: this.state.id(),
      repo: r.fullName,
      issueNumber,
      body: input.body,
      user: input.user,
      createdAt: at,
      updatedAt: at,
    };
    this.state.comments.set(c.id, c);
    return { id: c.id };
  }

  addReviewComment(
    repo: string,
    pullNumber: number,
    input: { body: string; user: string; path?: string; line?: number; inReplyTo?: number },
  ): { id: number; nodeId: string } {
    const r = this.repo(repo);
    this.pull(repo, pullNumber);
    const at = now();
    const c: ReviewCommentState = {
      id: this.state.id(),
      repo: r.fullName,
      pullNumber,
      body: input.body,
      user: input.user,
      path: input.path ?? 'README.md',
      line: input.line ?? 1,
      commitId: fakeSha(repo, String(pullNumber)),
      inReplyToId: input.inReplyTo,
      createdAt: at,
      updatedAt: at,
    };
    this.state.reviewComments.set(c.id, c);
    return { id: c.id, nodeId: nodeId('PullRequestReviewComment', c.id) };
  }

  // ---- inspection ----------------------------------------------------------------------------

  comments(repo: string, issueNumber: number): CommentState[] {
    const r = this.repo(repo);
    return [...this.state.comments.values()]
      .filter((c) => c.repo === r.fullName && c.issueNumber === issueNumber)
      .sort((a, b) => a.id - b.id);
  }

  reviewComments(repo: string, pullNumber: number): ReviewCommentState[] {
    const r = this.repo(repo);
    return [...this.state.reviewComments.values()]
      .filter((c) => c.repo === r.fullName && c.pullNumber === pullNumber)
      .sort((a, b) => a.id - b.id);
  }

  /** Reactions in a repository, optionally on one comment (issue or review comment id). */
  reactions(repo: string, commentId?: number): ReactionState[] {
    const r = this.repo(repo);
    return this.state.reactions.filter(
      (x) => x.repo === r.fullName && (commentId === undefined || x.commentId === commentId),
    );
  }

  issue(repo: string, number: number): IssueState | undefined {
    return this.state.issue(this.repo(repo).fullName, number);
  }

  pulls(repo: string): PullView[] {
    return this.state
      .issuesOf(this.repo(repo).fullName)
      .filter((i) => i.pull)
      .sort((a, b) => a.number - b.number)
      .map((i) => {
        const p = i.pull as NonNullable<IssueState['pull']>;
        return {
          number: i.number,
          title: i.title,
          body: i.body,
          user: i.user,
          state: i.state,
          head: p.head,
          headRepo: p.headRepo,
          fork: p.headFork,
          base: p.base,
          draft: p.draft,
          merged: p.merged,
        };
      });
  }

  checkRuns(repo: string): CheckRunState[] {
    const r = this.repo(repo);
    return [...this.state.checkRuns.values()]
      .filter((c) => c.repo === r.fullName)
      .sort((a, b) => a.id - b.id);
  }

  protected repo(fullName: string): RepoState {
    const r = this.state.repo(fullName);
    if (!r) throw new Error(`fake GitHub: unknown repository ${fullName} (call addRepo first)`);
    return r;
  }

  protected pull(repo: string, number: number): NonNullable<IssueState['pull']> {
    const issue = this.state.issue(this.repo(repo).fullName, number);
    if (!issue?.pull) throw new Error(`${repo}#${number} is not a pull request`);
    return issue.pull;
  }
}

import { createHash } from 'node:crypto';

/** In-memory GitHub state the handlers read and write and tests seed and inspect. */

export type Role = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface RepoState {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  installationId: number;
  private: boolean;
  fork: boolean;
  createdAt: string;
  permissions: Map<string, Role>;
  /** Branch name → head sha, for branches tests declared without a git server hook. */
  branches: Map<string, string>;
  /** Issues and pull requests share one number sequence, as on GitHub. */
  nextNumber: number;
}

export interface IssueState {
  id: number;
  repo: string;
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  labels: string[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Present when this issue is a pull request. */
  pull?: PullState;
}

export interface PullState {
  id: number;
  head: string;
  /** Repository the head branch lives in (`owner/name`); differs from the base repo for forks. */
  headRepo: string;
  headFork: boolean;
  /** Explicit head sha; otherwise computed from the headSha hook or the branch table. */
  headSha?: string;
  base: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  maintainerCanModify: boolean;
}

export interface CommentState {
  id: number;
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface ReviewCommentState {
  id: number;
  repo: string;
  pullNumber: number;
  body: string;
  user: string;
  path: string;
  line: number;
  commitId: string;
  inReplyToId?: number;
  createdAt: string;
  updatedAt: string;
}

export type ReviewStateName = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

/** A pull request review (its body is what a reviewer wrote when submitting it). */
export interface ReviewState {
  id: number;
  repo: string;
  pullNumber: number;
  body: string;
  user: string;
  state: ReviewStateName;
  commitId: string;
  /** null while PENDING (only its author sees it). */
  submittedAt: string | null;
}

export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';

export interface ReactionState {
  id: number;
  repo: string;
  subject: 'issue_comment' | 'review_comment';
  commentId: number;
  content: ReactionContent;
  user: string;
  createdAt: string;
}

export interface CheckRunState {
  id: number;
  repo: string;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion: string | null;
  startedAt: string | null;
  completedAt: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every body sent for this run (create, then each update) for tests that assert on progress. */
  history: Record<string, unknown>[];
}

/** An organization's team; `members` by lower-case login. */
export interface TeamState {
  id: number;
  org: string;
  slug: string;
  name: string;
  members: Map<string, { login: string; role: 'member' | 'maintainer'; state: 'active' | 'pending' }>;
}

export class State {
  private nextId = 1000;
  readonly repos = new Map<string, RepoState>();
  readonly issues = new Map<string, IssueState>(); // key `${repo}#${number}`
  readonly comments = new Map<number, CommentState>();
  readonly reviewComments = new Map<number, ReviewCommentState>();
  readonly reviews = new Map<number, ReviewState>();
  /** Resolved review threads: the thread's first comment id → who resolved it. */
  readonly resolvedThreads = new Map<number, string>();
  readonly reactions: ReactionState[] = [];
  readonly checkRuns = new Map<number, CheckRunState>();
  /** Teams by `org/slug` (lower case). */
  readonly teams = new Map<string, TeamState>();
  /** What an installation was granted, when it differs from the App's permissions (not yet approved). */
  readonly grantedPermissions = new Map<number, Record<string, string>>();
  private readonly userIds = new Map<string, number>();

  id(): number {
    return this.nextId++;
  }

  /** Stable per-login user id, so the same login always looks like the same account. */
  userId(login: string): number {
    let id = this.userIds.get(login.toLowerCase());
    if (id === undefined) {
      id = 500_000 + this.userIds.size;
      this.userIds.set(login.toLowerCase(), id);
    }
    return id;
  }

  repo(fullName: string): RepoState | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  issue(repo: string, number: number): IssueState | undefined {
    return this.issues.get(`${repo.toLowerCase()}#${number}`);
  }

  putIssue(issue: IssueState): void {
    this.issues.set(`${issue.repo.toLowerCase()}#${issue.number}`, issue);
  }

  issuesOf(repo: string): IssueState[] {
    const prefix = `${repo.toLowerCase()}#`;
    return [...this.issues.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A deterministic, realistic-looking 40-hex sha for a branch nobody gave us a sha for. */
export function fakeSha(...parts: string[]): string {
  return createHash('sha1').update(parts.join('\0')).digest('hex');
}

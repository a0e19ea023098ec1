/**
 * Forge's one vocabulary for code hosts. Adapters (github/, gitlab/) translate to and from it;
 * core code never branches on which forge it talks to.
 */

export type ForgeKind = 'github' | 'gitlab';

/** A repository (GitHub) or project (GitLab). `path` may hold subgroups: `group/sub/project`. */
export interface RepoRef {
  forge: ForgeKind;
  /** GitHub App installation id; absent on GitLab. */
  installationId?: number;
  path: string;
  /** HTTPS clone URL taken from the webhook payload (never carries credentials). */
  cloneUrl: string;
  defaultBranch: string;
  /** Link to the repository's web page. */
  webUrl: string;
}

export interface Actor {
  login: string;
  id: number;
  isBot: boolean;
}

/** Where a comment lives: an issue, a change request's conversation, or a review thread. */
export type CommentPlace =
  | { type: 'issue'; number: number }
  | { type: 'change_request'; number: number }
  | { type: 'review_thread'; number: number; threadId: string };

/**
 * An issue or a change request: where comments live. GitHub numbers both in one sequence; GitLab
 * numbers issues (`#n`) and merge requests (`!n`) apart, so core code always says which it means.
 */
export interface Conversation {
  type: 'issue' | 'change_request';
  number: number;
}

export interface CommentRef {
  id: number;
  place: CommentPlace;
  url?: string;
  /** A submitted review's body, not a comment: `id` is the review's (no reactions on GitHub). */
  isReview?: boolean;
  /** When it was written (ISO 8601), from the payload: webhooks and their jobs may arrive out of order. */
  createdAt?: string;
}

/** Normalized webhook event: what the core reacts to. */
export type ForgeEvent =
  | {
      kind: 'comment';
      deliveryId: string;
      repo: RepoRef;
      actor: Actor;
      comment: CommentRef & { body: string };
      /** The issue or change request the comment is on. */
      subject: { number: number; title: string; body: string; isChangeRequest: boolean };
    }
  | {
      kind: 'labeled';
      deliveryId: string;
      repo: RepoRef;
      actor: Actor;
      label: string;
      subject: { number: number; title: string; body: string; isChangeRequest: false };
    }
  | {
      kind: 'change_request_closed';
      deliveryId: string;
      repo: RepoRef;
      actor: Actor;
      number: number;
      merged: boolean;
    };

/** Permission on a repository, from the forge's own permission API (never author association). */
export type RepoPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface ChangeRequest {
  number: number;
  url: string;
  headBranch: string;
  headSha: string;
  baseBranch: string;
  /** Head lives in another repository (a fork). */
  isFork: boolean;
  state: 'open' | 'closed' | 'merged';
}

export interface Issue {
  number: number;
  title: string;
  body: string;
  url: string;
  isChangeRequest: boolean;
}

export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export type CheckConclusion = 'success' | 'failure' | 'cancelled' | 'neutral';

export interface CheckReport {
  /** Commit the check hangs on. */
  sha: string;
  status: CheckStatus;
  conclusion?: CheckConclusion;
  title: string;
  /** Markdown. */
  summary: string;
  detailsUrl?: string;
  /** Stable key (task id + turn) so a retried job updates instead of duplicating. */
  externalId: string;
  /** Branch the commit is on (GitLab ties a commit status to a ref; GitHub ignores it). */
  ref?: string;
}

export interface GitCredentials {
  username: string;
  password: string;
}

/** How the host names things, and the few conventions that differ between hosts. */
export interface ForgeWords {
  /** "pull request" / "merge request" */
  changeRequest: string;
  /** "PR" / "MR" */
  changeRequestShort: string;
  /** `#12` / `!12` */
  changeRequestRef(n: number): string;
  issueRef(n: number): string;
  /** "repository" / "project" */
  repository: string;
  /** Where a repository keeps its Forge settings (read from the default branch): `.github/forge.yml`. */
  settingsPath: string;
  /** Who may ask Forge, in the host's terms: "write access to this repository". */
  writeAccess: string;
  /** What to check when the host refuses Forge's credentials (for error explanations). */
  accessHint: string;
  /** The address that credits a user in `Co-authored-by:` without exposing their email. */
  noreplyEmail(login: string, id: number): string;
  /** Paths this host will not accept in Forge's pushes (GitHub: workflows), and why, for the user. */
  unpushable?: { matches(path: string): boolean; why: string };
}

/** One comment of review feedback. `author` is the login as webhooks name it (bots end in `[bot]`). */
export interface FeedbackComment {
  author: string;
  /** Raw text as the forge holds it (hidden content included: callers strip it). */
  body: string;
  createdAt: string;
  url?: string;
}

/** An unresolved review thread; `threadId` is what `replyInThread` takes. */
export interface ReviewThreadFeedback {
  /** GitHub: the REST id of the thread's first comment (as in `review_thread` places). */
  threadId: string;
  path?: string;
  line?: number;
  /** The code the thread is on has changed since (GitHub `isOutdated`). */
  outdated?: boolean;
  /** Oldest first, the opening comment included. */
  comments: FeedbackComment[];
}

export type ReviewVerdict = 'approved' | 'changes_requested' | 'commented';

/** Everything reviewers said on a change request that is still open for the agent to address. */
export interface ReviewFeedback {
  /** Unresolved review threads only (resolved ones are done), oldest first. */
  threads: ReviewThreadFeedback[];
  /** Submitted reviews that have a body (never pending or dismissed ones), oldest first. */
  reviews: (FeedbackComment & { state: ReviewVerdict })[];
  /** Conversation comments, oldest first (Forge's own included: callers filter). */
  comments: FeedbackComment[];
}

/**
 * One instance per repository (and installation). Reads, and idempotent writes.
 * Implemented by GitHubForge and GitLabForge; both pass test/contract.
 */
export interface Forge {
  readonly kind: ForgeKind;
  readonly repo: RepoRef;
  readonly words: ForgeWords;

  getPermission(login: string): Promise<RepoPermission>;
  /**
   * Whether `login` is an active member of `team` — GitHub `org/team-slug` (child teams included;
   * needs the App's organization `members: read` permission), GitLab a group path (inherited
   * membership included). `false` for an unknown team or user, or a pending invitation; any other
   * failure throws, so callers fail closed. Called from the event job only, never on the webhook path.
   */
  isTeamMember(team: string, login: string): Promise<boolean>;
  /**
   * Whether the actor is a bot (Forge's own account included), beyond what the webhook said: some
   * hosts only tell through their API. Bots never make Forge act.
   */
  isBot(actor: Actor): Promise<boolean>;
  getIssue(number: number): Promise<Issue>;
  getChangeRequest(number: number): Promise<ChangeRequest>;
  findOpenChangeRequest(headBranch: string): Promise<ChangeRequest | undefined>;
  branchExists(branch: string): Promise<boolean>;
  /**
   * Text of the file at `path` on `ref` (a branch), or `undefined` when there is no such file.
   * Callers reading settings pass the default branch, never a change request's head.
   */
  readFile(path: string, ref: string): Promise<string | undefined>;

  addReaction(comment: CommentRef, reaction: 'eyes'): Promise<void>;
  /** Plain new comment (short replies). */
  postComment(on: Conversation, body: string): Promise<{ id: number }>;
  /**
   * Create-or-edit the comment that carries `marker` (a hidden HTML comment). `knownId` skips the
   * search when the caller remembers it. Never creates a second one.
   */
  ensureComment(on: Conversation, marker: string, body: string, knownId?: number): Promise<{ id: number }>;
  /** Reply inside a change request's review thread (`threadId` from the normalized event). */
  replyInThread(number: number, threadId: string, body: string): Promise<{ id: number }>;
  /**
   * All review feedback on a change request, every page of it (no cap at 100): unresolved review
   * threads with all their comments, submitted review bodies and conversation comments.
   */
  listReviewFeedback(number: number): Promise<ReviewFeedback>;
  /** Create or update the progress check (GitHub check run / GitLab commit status). */
  reportCheck(report: CheckReport, knownId?: number): Promise<{ id: number }>;

  createChangeRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
    draft: boolean;
  }): Promise<ChangeRequest>;
  updateChangeRequest(number: number, input: { title?: string; body?: string }): Promise<void>;

  /** Short-lived credentials for host-side git over HTTPS. Never given to an agent. */
  gitCredentials(): Promise<GitCredentials>;
}

/** Builds a Forge for the repository an event or task names. */
export interface ForgeFactory {
  forRepo(repo: RepoRef): Promise<Forge>;
}

import {
  Branches,
  Commits,
  GitbeakerRequestError,
  GroupMembers,
  IssueNoteAwardEmojis,
  IssueNotes,
  Issues,
  MergeRequestDiscussions,
  MergeRequestNoteAwardEmojis,
  MergeRequestNotes,
  MergeRequests,
  ProjectMembers,
  RepositoryFiles,
  Users,
} from '@gitbeaker/rest';

/**
 * The GitLab REST resources Forge uses, through @gitbeaker/rest, with request rates inside
 * GitLab.com's limits (docs: "GitLab.com settings → rate limits"): 2,000 authenticated API requests
 * per minute per user, and 60 note creations per minute on issues and merge requests.
 *
 * gitbeaker keeps one set of limiters per resource, matched against the endpoint after the
 * resource's own prefix (`projects/`), so the note budget is split over the three resources that
 * create notes (20 + 20 + 15 = 55 a minute) and the general budget over the thirteen resources
 * (13 × 150 = 1,950 a minute). These limits are per process; across processes Forge additionally
 * spaces all writes by a Redis slot booking (see app.ts), which keeps note creation under 60 a
 * minute however many workers run.
 */
export const GITLAB_RATE_LIMITS = {
  '**': 150,
  '*/issues/*/notes': { method: 'post', limit: 20 },
  '*/merge_requests/*/notes': { method: 'post', limit: 20 },
  '*/merge_requests/*/discussions/*/notes': { method: 'post', limit: 15 },
} as const;

export interface GitLabClientOptions {
  /** Instance URL, e.g. `https://gitlab.com` (a path prefix is allowed). */
  url: string;
  token: string;
  /** Per-request timeout (gitbeaker's `queryTimeout`). */
  timeoutMs?: number;
}

export function createGitLabClient(options: GitLabClientOptions) {
  const config = {
    host: options.url.replace(/\/+$/, ''),
    token: options.token,
    rateLimits: GITLAB_RATE_LIMITS,
    rateLimitDuration: 60,
    queryTimeout: options.timeoutMs ?? 30_000,
  };
  return {
    users: new Users(config),
    members: new ProjectMembers(config),
    groupMembers: new GroupMembers(config),
    issues: new Issues(config),
    issueNotes: new IssueNotes(config),
    issueNoteEmojis: new IssueNoteAwardEmojis(config),
    mergeRequests: new MergeRequests(config),
    mergeRequestNotes: new MergeRequestNotes(config),
    mergeRequestNoteEmojis: new MergeRequestNoteAwardEmojis(config),
    discussions: new MergeRequestDiscussions(config),
    branches: new Branches(config),
    files: new RepositoryFiles(config),
    commits: new Commits(config),
  };
}

export type GitLabClient = ReturnType<typeof createGitLabClient>;

/** HTTP status of a failed gitbeaker request (undefined for network errors and timeouts). */
export function statusOf(error: unknown): number | undefined {
  if (!(error instanceof GitbeakerRequestError)) return undefined;
  const response = (error.cause as { response?: { status?: number } } | undefined)?.response;
  return typeof response?.status === 'number' ? response.status : undefined;
}

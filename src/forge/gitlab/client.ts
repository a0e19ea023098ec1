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
 * A rule every endpoint matches. `**` is not one: gitbeaker matches with picomatch's defaults, which
 * leave out path segments starting with a dot (`repository/files/.gitlab%2Fforge.yml/raw`). A
 * negation has no such exception: every endpoint but one that does not exist.
 */
export const EVERY_ENDPOINT = '!no-such-endpoint';

/**
 * The GitLab REST resources Forge uses, through @gitbeaker/rest, with request rates inside
 * GitLab.com's limits (docs: "GitLab.com settings → rate limits"): 2,000 authenticated API requests
 * per minute per user, and 60 note creations per minute on issues and merge requests.
 *
 * How gitbeaker applies these (@gitbeaker/requester-utils `getMatchingRateLimiter`): each resource
 * has its own limiters, one per rule, matched against the endpoint after the resource's own prefix
 * (`projects/` for the notes resources). The first rule whose glob matches, in reverse sorted key
 * order, limits the request; when that rule is for another method, or none matches, the request
 * gets a fresh limiter of its own, i.e. no limit. So the note rules take every method: listing a
 * thread's notes (GET on the same path, only when a sticky note's id was lost) counts against the
 * note budget, rather than escaping every budget. Editing a note (`…/notes/:id`) is general.
 *
 * Budget per process: the note rules split 55 a minute over the three resources that create notes,
 * and the general rule gives each of the thirteen resources 145 (1,885 a minute). Across processes
 * Forge additionally spaces all writes by a Redis slot booking (see app.ts), which keeps note
 * creation under 60 a minute however many workers run. client.test.ts checks every call Forge makes.
 */
export const GITLAB_RATE_LIMITS = {
  [EVERY_ENDPOINT]: 145,
  '*/issues/*/notes': 20,
  '*/merge_requests/*/notes': 20,
  '*/merge_requests/*/discussions/*/notes': 15,
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

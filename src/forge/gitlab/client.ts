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
 * Budget per process, from the user's limits (GitLab.com's by default; self-managed instances set
 * their own): note creation gets 92% of the note limit, split 4:4:3 over the three resources that
 * create notes (20, 20 and 15 a minute on GitLab.com), and the general rule gives each of the
 * thirteen resources an equal share of 97% of the request limit, less the notes (145 a minute each
 * on GitLab.com). Across processes Forge additionally spaces all writes by a Redis slot booking (see
 * app.ts), which keeps note creation under the limit however many workers run. client.test.ts
 * checks every call Forge makes.
 */
export interface GitLabRateLimits {
  requestsPerMinute: number;
  notesPerMinute: number;
}

/** GitLab.com: 2,000 authenticated API requests and 60 note creations a minute per user. */
export const GITLAB_COM_LIMITS: GitLabRateLimits = { requestsPerMinute: 2000, notesPerMinute: 60 };

const RESOURCES = 13;

export function gitlabRateLimits(limits: GitLabRateLimits = GITLAB_COM_LIMITS) {
  const notes = Math.max(3, Math.floor(limits.notesPerMinute * 0.92));
  const perNotesResource = Math.floor((notes * 4) / 11);
  const general = Math.max(1, Math.floor((Math.floor(limits.requestsPerMinute * 0.97) - notes) / RESOURCES));
  return {
    [EVERY_ENDPOINT]: general,
    '*/issues/*/notes': perNotesResource,
    '*/merge_requests/*/notes': perNotesResource,
    '*/merge_requests/*/discussions/*/notes': notes - 2 * perNotesResource,
  } as const;
}

export const GITLAB_RATE_LIMITS = gitlabRateLimits();

export interface GitLabClientOptions {
  /** Instance URL, e.g. `https://gitlab.com` (a path prefix is allowed). */
  url: string;
  token: string;
  /** Per-request timeout (gitbeaker's `queryTimeout`). */
  timeoutMs?: number;
  /** The bot user's limits on the instance (default GitLab.com's). */
  limits?: GitLabRateLimits;
}

export function createGitLabClient(options: GitLabClientOptions) {
  const config = {
    host: options.url.replace(/\/+$/, ''),
    token: options.token,
    rateLimits: gitlabRateLimits(options.limits),
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

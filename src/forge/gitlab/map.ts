import type { ChangeRequest, CheckReport, ForgeWords, RepoPermission } from '../types.js';

/** Small pure mappers from GitLab's REST shapes and conventions to Forge's vocabulary. */

/** The name of Forge's commit status on GitLab (what GitHub calls the check run's name). */
export const STATUS_NAME = 'Forge';

/** `https://gitlab.example.com/gitlab` → `gitlab.example.com` (private commit emails use the host). */
export function gitlabWords(instanceUrl: string): ForgeWords {
  const host = new URL(instanceUrl).hostname;
  return {
    changeRequest: 'merge request',
    changeRequestShort: 'MR',
    changeRequestRef: (n) => `!${n}`,
    issueRef: (n) => `#${n}`,
    repository: 'project',
    settingsPath: '.gitlab/forge.yml',
    writeAccess: 'the Developer role or higher in this project',
    accessHint:
      "Check that Forge's GitLab token (GITLAB_TOKEN) is valid, has the `api` scope and the Developer role in this project.",
    // GitLab's private commit email: it links the commit to the user without exposing an address.
    noreplyEmail: (login, id) => `${id}-${login}@users.noreply.${host}`,
  };
}

/**
 * Project member access level → permission. 50 Owner, 40 Maintainer, 30 Developer (may push: the
 * first level that can act), 20 Reporter, 15 Planner, 10 Guest, 5 Minimal access. A member who is
 * blocked or awaiting approval has no access.
 */
export function mapAccessLevel(level: number, state?: string | null): RepoPermission {
  if (state && state !== 'active') return 'none';
  if (level >= 50) return 'admin';
  if (level >= 40) return 'maintain';
  if (level >= 30) return 'write';
  if (level >= 20) return 'triage';
  if (level >= 10) return 'read';
  return 'none';
}

/** Project and group access tokens act as generated bot users named like this. */
const ACCESS_TOKEN_BOT = /^(project|group)_\d+_bot(_[0-9a-f]+)?$/i;

export function isAccessTokenBotName(username: string): boolean {
  return ACCESS_TOKEN_BOT.test(username);
}

interface MergeRequestLike {
  iid: number;
  web_url: string;
  state: string;
  source_branch: string;
  target_branch: string;
  source_project_id: number;
  target_project_id: number;
  sha?: string | null;
  diff_refs?: { head_sha?: string | null } | null;
}

export function mapMergeRequest(mr: MergeRequestLike): ChangeRequest {
  return {
    number: mr.iid,
    url: mr.web_url,
    headBranch: mr.source_branch,
    headSha: mr.sha ?? mr.diff_refs?.head_sha ?? '',
    baseBranch: mr.target_branch,
    isFork: mr.source_project_id !== mr.target_project_id,
    state: mr.state === 'merged' ? 'merged' : mr.state === 'opened' ? 'open' : 'closed',
  };
}

/** GitLab marks a merge request as a draft by its title: `Draft:`, `[Draft]` or `(Draft)` in front. */
const DRAFT_PREFIX = /^\s*(\[draft\]|\(draft\)|draft:)\s*/i;

export function isDraftTitle(title: string): boolean {
  return DRAFT_PREFIX.test(title);
}

export function draftTitle(title: string, draft: boolean): string {
  const bare = title.replace(DRAFT_PREFIX, '');
  return draft ? `Draft: ${bare}` : bare;
}

export type CommitStatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped';

/**
 * CheckReport → the commit status state to post. GitLab's statuses are a state machine: `skipped` can
 * only be reached before a status runs, so "neutral" on a status Forge already started is `canceled`.
 */
export function statusState(
  report: Pick<CheckReport, 'status' | 'conclusion'>,
  started: boolean,
): CommitStatusState {
  if (report.status === 'queued') return 'pending';
  if (report.status === 'in_progress') return 'running';
  switch (report.conclusion) {
    case 'success':
      return 'success';
    case 'failure':
      return 'failed';
    case 'cancelled':
      return 'canceled';
    default:
      return started ? 'canceled' : 'skipped';
  }
}

/** GitLab limits a commit status's description and target URL to 255 characters. */
export function statusText(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= 255 ? flat : `${flat.slice(0, 254)}…`;
}

/**
 * Whether a URL from a webhook payload (a clone or web URL) is on the instance: the same scheme,
 * host and port (a scheme's default port equals an explicit one), under the instance's path prefix.
 * Forge sends its token to clone URLs, so a signed payload must not be able to move it to cleartext
 * HTTP or to another service on the same host.
 */
export function onInstance(url: string, instanceUrl: string): boolean {
  try {
    const u = new URL(url);
    const instance = new URL(instanceUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
    // `origin` is scheme, host and port, with the scheme's default port left out.
    if (u.origin !== instance.origin) return false;
    const prefix = `${instance.pathname.replace(/\/+$/, '')}/`;
    return u.pathname.startsWith(prefix);
  } catch {
    return false;
  }
}

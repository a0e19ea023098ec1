import type { ChangeRequest, RepoPermission } from '../types.js';

/** Small pure mappers from GitHub's REST shapes to Forge's vocabulary. */

export function repoOwnerName(path: string): [string, string] {
  const [owner, name, ...rest] = path.split('/');
  if (!owner || !name || rest.length) throw new Error(`not a GitHub repository path: ${path}`);
  return [owner, name];
}

const ROLES: readonly RepoPermission[] = ['admin', 'maintain', 'write', 'triage', 'read', 'none'];

/** `role_name` carries maintain/triage (and custom roles); `permission` is the base level. */
export function mapPermission(permission: string, roleName?: string | null): RepoPermission {
  if (roleName && (ROLES as readonly string[]).includes(roleName)) return roleName as RepoPermission;
  return (ROLES as readonly string[]).includes(permission) ? (permission as RepoPermission) : 'none';
}

interface PullLike {
  number: number;
  html_url: string;
  state: string;
  merged?: boolean | null;
  merged_at?: string | null;
  head: { ref: string; sha: string; repo: { full_name: string } | null };
  base: { ref: string; repo: { full_name: string } };
}

export function mapPull(pull: PullLike): ChangeRequest {
  return {
    number: pull.number,
    url: pull.html_url,
    headBranch: pull.head.ref,
    headSha: pull.head.sha,
    baseBranch: pull.base.ref,
    // A deleted fork leaves head.repo null: still not ours.
    isFork: pull.head.repo?.full_name !== pull.base.repo.full_name,
    state: pull.merged || pull.merged_at ? 'merged' : pull.state === 'open' ? 'open' : 'closed',
  };
}

import type { IssuedToken } from './auth.js';
import type { RepoState, State } from './state.js';

/**
 * Response builders for accounts, repositories, the app and its installations. They fill every
 * field GitHub's schema marks required (the fake checks its own responses against the schema), so
 * code reading any documented field sees a plausible value rather than `undefined`.
 */

export interface ShapeContext {
  state: State;
  /** API root as clients see it, e.g. `http://127.0.0.1:PORT/api/v3`. */
  api: string;
  /** Web root for `html_url`s, e.g. `http://127.0.0.1:PORT`. */
  web: string;
  app: { id: number; slug: string; name: string; ownerLogin: string };
}

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`0:${kind}${id}`).toString('base64').replace(/=+$/, '');
}

export function userShape(ctx: ShapeContext, login: string) {
  const bot = login.endsWith('[bot]');
  const id = ctx.state.userId(login);
  const u = `${ctx.api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId(bot ? 'Bot' : 'User', id),
    avatar_url: `${ctx.web}/avatars/u/${id}`,
    gravatar_id: '',
    url: u,
    html_url: bot ? `${ctx.web}/apps/${login.replace(/\[bot\]$/, '')}` : `${ctx.web}/${login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: bot ? 'Bot' : 'User',
    user_view_type: 'public',
    site_admin: false,
  };
}

/** A repository that may not be seeded (e.g. the head repo of a fork pull request). */
export function externalRepo(ctx: ShapeContext, fullName: string, fork: boolean): RepoState {
  const [owner = 'unknown', name = 'unknown'] = fullName.split('/');
  const known = ctx.state.repo(fullName);
  if (known) return known;
  return {
    id: 900_000 + ctx.state.userId(`repo:${fullName}`),
    owner,
    name,
    fullName,
    defaultBranch: 'main',
    installationId: 0,
    private: false,
    fork,
    createdAt: '2020-01-01T00:00:00Z',
    permissions: new Map(),
    branches: new Map(),
    nextNumber: 1,
  };
}

export function repoShape(ctx: ShapeContext, r: RepoState) {
  const u = `${ctx.api}/repos/${r.fullName}`;
  const html = `${ctx.web}/${r.fullName}`;
  const host = new URL(ctx.web).host;
  return {
    id: r.id,
    node_id: nodeId('Repository', r.id),
    name: r.name,
    full_name: r.fullName,
    private: r.private,
    owner: userShape(ctx, r.owner),
    html_url: html,
    description: null,
    fork: r.fork,
    url: u,
    archive_url: `${u}/{archive_format}{/ref}`,
    assignees_url: `${u}/assignees{/user}`,
    blobs_url: `${u}/git/blobs{/sha}`,
    branches_url: `${u}/branches{/branch}`,
    collaborators_url: `${u}/collaborators{/collaborator}`,
    comments_url: `${u}/comments{/number}`,
    commits_url: `${u}/commits{/sha}`,
    compare_url: `${u}/compare/{base}...{head}`,
    contents_url: `${u}/contents/{+path}`,
    contributors_url: `${u}/contributors`,
    deployments_url: `${u}/deployments`,
    downloads_url: `${u}/downloads`,
    events_url: `${u}/events`,
    forks_url: `${u}/forks`,
    git_commits_url: `${u}/git/commits{/sha}`,
    git_refs_url: `${u}/git/refs{/sha}`,
    git_tags_url: `${u}/git/tags{/sha}`,
    git_url: `git://${host}/${r.fullName}.git`,
    hooks_url: `${u}/hooks`,
    issue_comment_url: `${u}/issues/comments{/number}`,
    issue_events_url: `${u}/issues/events{/number}`,
    issues_url: `${u}/issues{/number}`,
    keys_url: `${u}/keys{/key_id}`,
    labels_url: `${u}/labels{/name}`,
    languages_url: `${u}/languages`,
    merges_url: `${u}/merges`,
    milestones_url: `${u}/milestones{/number}`,
    notifications_url: `${u}/notifications{?since,all,participating}`,
    pulls_url: `${u}/pulls{/number}`,
    releases_url: `${u}/releases{/id}`,
    ssh_url: `git@${host}:${r.fullName}.git`,
    stargazers_url: `${u}/stargazers`,
    statuses_url: `${u}/statuses/{sha}`,
    subscribers_url: `${u}/subscribers`,
    subscription_url: `${u}/subscription`,
    tags_url: `${u}/tags`,
    teams_url: `${u}/teams`,
    trees_url: `${u}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    svn_url: html,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: r.defaultBranch,
    open_issues: 0,
    open_issues_count: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: r.private ? 'private' : 'public',
    license: null,
    pushed_at: r.createdAt,
    created_at: r.createdAt,
    updated_at: r.createdAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    network_count: 0,
    subscribers_count: 0,
  };
}

export const APP_PERMISSIONS: Record<string, string> = {
  checks: 'write',
  contents: 'write',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
  // Organization permission: team memberships for `allowedTeams`.
  members: 'read',
};
export const APP_EVENTS = ['issue_comment', 'issues', 'pull_request', 'pull_request_review_comment'];

export function appShape(ctx: ShapeContext) {
  return {
    id: ctx.app.id,
    slug: ctx.app.slug,
    client_id: `Iv1.${ctx.app.id.toString(16).padStart(16, '0')}`,
    node_id: nodeId('App', ctx.app.id),
    owner: userShape(ctx, ctx.app.ownerLogin),
    name: ctx.app.name,
    description: 'Fake GitHub App for tests',
    external_url: `${ctx.web}/apps/${ctx.app.slug}`,
    html_url: `${ctx.web}/apps/${ctx.app.slug}`,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    installations_count: new Set([...ctx.state.repos.values()].map((r) => r.installationId)).size,
  };
}

export function installationShape(ctx: ShapeContext, installationId: number) {
  const repos = [...ctx.state.repos.values()].filter((r) => r.installationId === installationId);
  const owner = repos[0]?.owner ?? 'unknown';
  return {
    id: installationId,
    account: userShape(ctx, owner),
    repository_selection: 'selected',
    access_tokens_url: `${ctx.api}/app/installations/${installationId}/access_tokens`,
    repositories_url: `${ctx.api}/installation/repositories`,
    html_url: `${ctx.web}/settings/installations/${installationId}`,
    app_id: ctx.app.id,
    app_slug: ctx.app.slug,
    target_id: ctx.state.userId(owner),
    target_type: 'User',
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

export function tokenShape(t: IssuedToken) {
  return {
    token: t.token,
    expires_at: t.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    permissions: t.permissions,
    repository_selection: t.repositories ? 'selected' : 'all',
  };
}

/**
 * Signed webhook deliveries built from GitHub's real example payloads (@octokit/webhooks-examples),
 * so Forge's intake is tested against the shape GitHub actually sends, not a hand-written subset.
 * The builders only override values; every other field of the real example stays as it is.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { EmitterWebhookEvent } from '@octokit/webhooks';

export type IssueCommentCreatedPayload = EmitterWebhookEvent<'issue_comment.created'>['payload'];
export type IssuesLabeledPayload = EmitterWebhookEvent<'issues.labeled'>['payload'];
export type PullRequestClosedPayload = EmitterWebhookEvent<'pull_request.closed'>['payload'];

interface WebhookDefinition {
  name: string;
  actions: string[];
  examples: Array<Record<string, unknown> & { action?: string }>;
}

let definitions: WebhookDefinition[] | undefined;

/** The api.github.com examples (a 4 MB JSON file, so loaded on first use). */
function loadDefinitions(): WebhookDefinition[] {
  // The package's main is api.github.com/index.json; require() reads JSON without import attributes.
  definitions ??= createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
  return definitions;
}

/**
 * A deep clone of the first real example of `event` (with `action`, when given). Throws, listing
 * what exists, when the event or the action has no example: a typo must not yield an empty payload.
 */
// biome-ignore lint/suspicious/noExplicitAny: real payloads are arbitrary JSON, typed by the caller.
export function examplePayload(event: string, action?: string): any {
  const all = loadDefinitions();
  const definition = all.find((d) => d.name === event);
  if (!definition) {
    const names = all
      .map((d) => d.name)
      .sort()
      .join(', ');
    throw new Error(`No webhook examples for event "${event}". Known events: ${names}`);
  }
  const example =
    action === undefined ? definition.examples[0] : definition.examples.find((e) => e.action === action);
  if (!example) {
    const withExamples = [...new Set(definition.examples.map((e) => e.action ?? '(none)'))].join(', ');
    throw new Error(
      `No "${event}" webhook example with action "${action}". Actions with examples: ${withExamples}` +
        ` (documented actions: ${definition.actions.join(', ') || 'none'})`,
    );
  }
  return structuredClone(example);
}

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

export interface BuildDeliveryOptions {
  /** The `X-GitHub-Event` name, e.g. `issue_comment`. */
  event: string;
  /** The payload object; a string is sent as is (to test malformed bodies). */
  payload: unknown;
  /** The webhook secret the signatures are made with. */
  secret: string;
  /** `X-GitHub-Delivery`; a fresh UUID by default, pass one to test redelivery dedupe. */
  deliveryId?: string;
  /** The GitHub App id, sent as X-GitHub-Hook-Installation-Target-ID. */
  appId?: number;
  /** `X-GitHub-Hook-ID`. */
  hookId?: number;
}

/**
 * Exactly what GitHub sends for a GitHub App webhook: the compact JSON body, both signatures
 * (HMAC of the exact body bytes), and the hook headers with the App as the installation target.
 */
export function buildDelivery(options: BuildDeliveryOptions): Delivery {
  const body = typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
  const hmac = (algorithm: 'sha1' | 'sha256') =>
    createHmac(algorithm, options.secret).update(body).digest('hex');
  return {
    headers: {
      Accept: '*/*',
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/b51e2ef',
      'X-GitHub-Delivery': options.deliveryId ?? randomUUID(),
      'X-GitHub-Event': options.event,
      'X-GitHub-Hook-ID': String(options.hookId ?? 123456789),
      'X-GitHub-Hook-Installation-Target-ID': String(options.appId ?? 1),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
      'X-Hub-Signature': `sha1=${hmac('sha1')}`,
      'X-Hub-Signature-256': `sha256=${hmac('sha256')}`,
    },
    body,
  };
}

/** POSTs a delivery as GitHub would; `ms` is the time until the response body was read. */
export async function sendDelivery(
  url: string,
  delivery: Delivery,
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Builders for the events Forge handles.

export interface RepoOptions {
  owner: string;
  name: string;
  /** Where Forge clones from; point it at the test git server. Default: the github.com URL. */
  cloneUrl?: string;
  defaultBranch?: string;
  id?: number;
  ownerId?: number;
  ownerType?: 'User' | 'Organization';
  private?: boolean;
}

export interface SenderOptions {
  login: string;
  id: number;
  type: 'User' | 'Bot';
}

interface CommonOptions {
  repo: RepoOptions;
  installationId?: number;
  /** Who acted. Default: a user named after the repository owner. */
  sender?: SenderOptions;
}

export interface IssueOptions {
  number: number;
  title?: string;
  body?: string | null;
  /** A PR conversation: GitHub sends it as an issue with a `pull_request` key. */
  isPullRequest?: boolean;
  state?: 'open' | 'closed';
  /** The issue's author. Default: the sender. */
  author?: SenderOptions;
}

export interface IssueCommentCreatedOptions extends CommonOptions {
  issue: IssueOptions;
  /** `createdAt`: when the comment was written (default now). */
  comment: { id: number; body: string; authorAssociation?: string; createdAt?: Date };
}

export interface IssuesLabeledOptions extends CommonOptions {
  issue: IssueOptions;
  label: { name: string; id?: number; color?: string; description?: string | null };
}

export interface PullRequestClosedOptions extends CommonOptions {
  number: number;
  merged: boolean;
  title?: string;
  body?: string | null;
  /** The PR's branch, e.g. the one Forge pushed. */
  head?: { ref: string; sha?: string };
  /** Target branch. Default: the repository's default branch. */
  baseRef?: string;
  mergeCommitSha?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: see examplePayload
type Json = Record<string, any>;

const API = 'https://api.github.com';
const WEB = 'https://github.com';

/** GitHub's legacy global node ids: base64 of "0<length of Type>:<Type><id>", e.g. "04:User1". */
function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

/** GitHub timestamps have no milliseconds. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Replaces `from` with `to` in every string of a JSON value (the example's URLs embed names). */
function replaceInStrings<T>(value: T, from: string, to: string): T {
  if (typeof value === 'string') return value.split(from).join(to) as T;
  if (Array.isArray(value)) return value.map((v) => replaceInStrings(v, from, to)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) out[k] = replaceInStrings(v, from, to);
    return out as T;
  }
  return value;
}

/** A user object in the example's shape, with login, id, type and the URLs made consistent. */
function userLike(template: Json, who: { login: string; id: number; type: string }): Json {
  const user = replaceInStrings(structuredClone(template), String(template.login), who.login);
  user.login = who.login;
  user.id = who.id;
  user.type = who.type;
  user.node_id = nodeId(who.type, who.id);
  user.avatar_url = `https://avatars.githubusercontent.com/u/${who.id}?v=4`;
  if (who.type === 'Bot') user.html_url = `${WEB}/apps/${who.login.replace(/\[bot\]$/, '')}`;
  return user;
}

function defaultSender(options: CommonOptions): SenderOptions {
  return options.sender ?? { login: options.repo.owner, id: options.repo.ownerId ?? 1001, type: 'User' };
}

/**
 * Rewrites the example's repository everywhere (URLs in the issue, comment and PR embed its full
 * name), then sets the repository objects' own fields.
 */
function withRepo(example: Json, repo: RepoOptions, installationId: number): Json {
  const fromFullName = String(example.repository.full_name);
  const fullName = `${repo.owner}/${repo.name}`;
  const payload = replaceInStrings(example, fromFullName, fullName);
  const ownerType = repo.ownerType ?? 'User';
  const owner = userLike(payload.repository.owner, {
    login: repo.owner,
    id: repo.ownerId ?? 1001,
    type: ownerType,
  });
  const apply = (r: Json) => {
    r.id = repo.id ?? 100001;
    r.node_id = nodeId('Repository', r.id);
    r.name = repo.name;
    r.full_name = fullName;
    r.owner = owner;
    r.private = repo.private ?? false;
    r.html_url = `${WEB}/${fullName}`;
    r.url = `${API}/repos/${fullName}`;
    r.clone_url = repo.cloneUrl ?? `${WEB}/${fullName}.git`;
    r.default_branch = repo.defaultBranch ?? 'main';
  };
  apply(payload.repository);
  if (payload.pull_request) {
    apply(payload.pull_request.head.repo);
    apply(payload.pull_request.base.repo);
  }
  // GitHub App deliveries always name the installation; some examples (repo webhooks) lack it.
  payload.installation = { id: installationId, node_id: nodeId('IntegrationInstallation', installationId) };
  return payload;
}

function applyIssue(payload: Json, issue: IssueOptions, author: Json): void {
  const full = payload.repository.full_name as string;
  const target = payload.issue as Json;
  const n = issue.number;
  target.number = n;
  target.title = issue.title ?? target.title;
  if (issue.body !== undefined) target.body = issue.body;
  target.state = issue.state ?? 'open';
  target.user = author;
  target.url = `${API}/repos/${full}/issues/${n}`;
  target.repository_url = `${API}/repos/${full}`;
  target.labels_url = `${API}/repos/${full}/issues/${n}/labels{/name}`;
  target.comments_url = `${API}/repos/${full}/issues/${n}/comments`;
  target.events_url = `${API}/repos/${full}/issues/${n}/events`;
  target.html_url = `${WEB}/${full}/${issue.isPullRequest ? 'pull' : 'issues'}/${n}`;
  if (issue.isPullRequest) {
    target.pull_request = {
      url: `${API}/repos/${full}/pulls/${n}`,
      html_url: `${WEB}/${full}/pull/${n}`,
      diff_url: `${WEB}/${full}/pull/${n}.diff`,
      patch_url: `${WEB}/${full}/pull/${n}.patch`,
      merged_at: null,
    };
  } else {
    delete target.pull_request;
  }
}

/** `issue_comment` / `created`: someone commented on an issue or a PR conversation. */
export function issueCommentCreated(options: IssueCommentCreatedOptions): IssueCommentCreatedPayload {
  const payload = withRepo(
    examplePayload('issue_comment', 'created'),
    options.repo,
    options.installationId ?? 1,
  );
  const template = payload.sender as Json;
  const sender = userLike(template, defaultSender(options));
  const author = options.issue.author ? userLike(template, options.issue.author) : sender;
  payload.sender = sender;
  applyIssue(payload, options.issue, author);

  const full = payload.repository.full_name as string;
  const { id, body, authorAssociation, createdAt } = options.comment;
  const comment = payload.comment as Json;
  comment.id = id;
  comment.node_id = nodeId('IssueComment', id);
  comment.body = body;
  comment.user = sender;
  comment.url = `${API}/repos/${full}/issues/comments/${id}`;
  comment.html_url = `${payload.issue.html_url}#issuecomment-${id}`;
  comment.issue_url = payload.issue.url;
  comment.created_at = comment.updated_at = createdAt
    ? createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z')
    : now();
  if (authorAssociation !== undefined) comment.author_association = authorAssociation;
  return payload as IssueCommentCreatedPayload;
}

/** `issues` / `labeled`: a label was added to an issue (it is then among `issue.labels`). */
export function issuesLabeled(options: IssuesLabeledOptions): IssuesLabeledPayload {
  const payload = withRepo(examplePayload('issues', 'labeled'), options.repo, options.installationId ?? 1);
  const sender = userLike(payload.sender, defaultSender(options));
  const author = options.issue.author ? userLike(payload.sender, options.issue.author) : sender;
  payload.sender = sender;
  applyIssue(payload, options.issue, author);

  const full = payload.repository.full_name as string;
  const label = payload.label as Json;
  label.id = options.label.id ?? 200001;
  label.node_id = nodeId('Label', label.id);
  label.name = options.label.name;
  label.url = `${API}/repos/${full}/labels/${encodeURIComponent(options.label.name)}`;
  if (options.label.color !== undefined) label.color = options.label.color;
  if (options.label.description !== undefined) label.description = options.label.description;
  label.default = false;
  payload.issue.labels = [structuredClone(label)];
  return payload as IssuesLabeledPayload;
}

/** `pull_request` / `closed`: a PR was merged (`merged: true`) or closed without merging. */
export function pullRequestClosed(options: PullRequestClosedOptions): PullRequestClosedPayload {
  const payload = withRepo(
    examplePayload('pull_request', 'closed'),
    options.repo,
    options.installationId ?? 1,
  );
  const sender = userLike(payload.sender, defaultSender(options));
  payload.sender = sender;

  const full = payload.repository.full_name as string;
  const n = options.number;
  const pr = payload.pull_request as Json;
  const closedAt = now();
  payload.number = n;
  pr.number = n;
  pr.node_id = nodeId('PullRequest', pr.id);
  if (options.title !== undefined) pr.title = options.title;
  if (options.body !== undefined) pr.body = options.body;
  pr.state = 'closed';
  pr.closed_at = closedAt;
  pr.merged = options.merged;
  pr.merged_at = options.merged ? closedAt : null;
  pr.merged_by = options.merged ? sender : null;
  if (options.mergeCommitSha !== undefined) pr.merge_commit_sha = options.mergeCommitSha;

  const owner = payload.repository.owner as Json;
  const headRef = options.head?.ref ?? pr.head.ref;
  const headSha = options.head?.sha ?? pr.head.sha;
  const baseRef = options.baseRef ?? payload.repository.default_branch;
  Object.assign(pr.head, { ref: headRef, sha: headSha, label: `${owner.login}:${headRef}`, user: owner });
  Object.assign(pr.base, { ref: baseRef, label: `${owner.login}:${baseRef}`, user: owner });

  const api = `${API}/repos/${full}`;
  Object.assign(pr, {
    url: `${api}/pulls/${n}`,
    html_url: `${WEB}/${full}/pull/${n}`,
    diff_url: `${WEB}/${full}/pull/${n}.diff`,
    patch_url: `${WEB}/${full}/pull/${n}.patch`,
    issue_url: `${api}/issues/${n}`,
    commits_url: `${api}/pulls/${n}/commits`,
    review_comments_url: `${api}/pulls/${n}/comments`,
    comments_url: `${api}/issues/${n}/comments`,
    statuses_url: `${api}/statuses/${headSha}`,
  });
  pr._links = {
    self: { href: `${api}/pulls/${n}` },
    html: { href: `${WEB}/${full}/pull/${n}` },
    issue: { href: `${api}/issues/${n}` },
    comments: { href: `${api}/issues/${n}/comments` },
    review_comments: { href: `${api}/pulls/${n}/comments` },
    review_comment: { href: `${api}/pulls/comments{/number}` },
    commits: { href: `${api}/pulls/${n}/commits` },
    statuses: { href: `${api}/statuses/${headSha}` },
  };
  return payload as PullRequestClosedPayload;
}

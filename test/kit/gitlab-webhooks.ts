/**
 * GitLab webhook deliveries built from GitLab's documented payloads (test/fixtures/gitlab-webhooks/),
 * with the headers GitLab sends. Builders only override the values a test needs; every other field
 * stays as GitLab sends it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'gitlab-webhooks');

export type GitLabFixture =
  | 'note-issue'
  | 'note-merge-request'
  | 'note-merge-request-diff'
  | 'note-commit'
  | 'issue'
  | 'merge-request';

/** A deep copy of a documented payload. */
// biome-ignore lint/suspicious/noExplicitAny: real payloads are arbitrary JSON, typed by the caller.
export function gitlabPayload(name: GitLabFixture): any {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));
}

export interface GitLabDelivery {
  headers: Record<string, string>;
  body: string;
}

export interface GitLabDeliveryOptions {
  /** `X-Gitlab-Event`, e.g. `Note Hook`. */
  event: string;
  /** The payload; a string is sent as is (to test malformed bodies). */
  payload: unknown;
  /** The webhook's secret token (`X-Gitlab-Token`); undefined sends none. */
  token: string | undefined;
  /** `Idempotency-Key` (the same on GitLab's retries); a fresh UUID by default. */
  idempotencyKey?: string;
  /** `X-Gitlab-Event-UUID`; a fresh UUID by default. */
  eventUuid?: string;
  /** Leave out `Idempotency-Key` (GitLab before 17.4). */
  withoutIdempotencyKey?: boolean;
  instance?: string;
}

/** The headers GitLab (17.4+) sends with every webhook request. */
export function buildGitLabDelivery(options: GitLabDeliveryOptions): GitLabDelivery {
  const body = typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'GitLab/17.9.0',
    'X-Gitlab-Event': options.event,
    'X-Gitlab-Instance': options.instance ?? 'https://gitlab.example.com',
    'X-Gitlab-Webhook-UUID': '02affd2d-2cba-4033-917d-ec22d5dc4b38',
    'X-Gitlab-Event-UUID': options.eventUuid ?? randomUUID(),
  };
  if (!options.withoutIdempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey ?? randomUUID();
  if (options.token !== undefined) headers['X-Gitlab-Token'] = options.token;
  return { headers, body };
}

export async function sendGitLabDelivery(
  url: string,
  delivery: GitLabDelivery,
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Builders for the events Forge handles.

export interface ProjectOptions {
  /** `group/sub/project`. */
  path: string;
  id?: number;
  /** HTTPS clone URL (`git_http_url`). */
  cloneUrl?: string;
  webUrl?: string;
  defaultBranch?: string;
}

export interface UserOptions {
  username: string;
  id: number;
  name?: string;
}

function project(p: ProjectOptions) {
  const web = p.webUrl ?? `http://gitlab.example.com/${p.path}`;
  const clone = p.cloneUrl ?? `${web}.git`;
  const namespace = p.path.split('/').slice(0, -1).join('/');
  return {
    id: p.id ?? 1,
    name: p.path.split('/').at(-1)!,
    web_url: web,
    git_http_url: clone,
    git_ssh_url: `git@gitlab.example.com:${p.path}.git`,
    namespace,
    path_with_namespace: p.path,
    default_branch: p.defaultBranch ?? 'main',
    homepage: web,
    url: clone,
    http_url: clone,
    ssh_url: `git@gitlab.example.com:${p.path}.git`,
  };
}

function user(u: UserOptions) {
  return { id: u.id, name: u.name ?? u.username, username: u.username };
}

export interface NoteOptions {
  project: ProjectOptions;
  user: UserOptions;
  /** `createdAt`: when the note was written (default now), in GitLab's `2015-05-17 18:08:09 UTC` form. */
  note: { id: number; body: string; action?: 'create' | 'update'; system?: boolean; createdAt?: Date };
}

/** A time as GitLab writes it in webhook payloads. */
export function gitlabTime(at: Date): string {
  return at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** A new note on an issue (`Note Hook`). */
export function noteOnIssue(
  options: NoteOptions & {
    issue: { iid: number; title?: string; description?: string; confidential?: boolean };
  },
) {
  const payload = gitlabPayload('note-issue');
  const proj = project(options.project);
  payload.project = { ...payload.project, ...proj };
  payload.project_id = proj.id;
  payload.user = { ...payload.user, ...user(options.user) };
  Object.assign(payload.object_attributes, {
    id: options.note.id,
    note: options.note.body,
    author_id: options.user.id,
    project_id: proj.id,
    system: options.note.system ?? false,
    action: options.note.action ?? 'create',
    url: `${proj.web_url}/-/issues/${options.issue.iid}#note_${options.note.id}`,
    created_at: gitlabTime(options.note.createdAt ?? new Date()),
    updated_at: gitlabTime(options.note.createdAt ?? new Date()),
  });
  Object.assign(payload.issue, {
    iid: options.issue.iid,
    project_id: proj.id,
    title: options.issue.title ?? 'Issue',
    description: options.issue.description ?? '',
    state: 'opened',
    ...(options.issue.confidential !== undefined ? { confidential: options.issue.confidential } : {}),
  });
  if (options.issue.confidential) payload.event_type = 'confidential_note';
  return payload;
}

export interface MergeRequestSubject {
  iid: number;
  title?: string;
  description?: string;
  sourceBranch?: string;
  /** A fork's merge request has its source in another project. */
  sourceProjectId?: number;
}

/**
 * A new note on a merge request. With `discussionId` it is a note in a thread (a reply, or a thread
 * started with "Start a thread"): GitLab marks those `type: DiscussionNote` with the thread's id.
 */
export function noteOnMergeRequest(
  options: NoteOptions & { mergeRequest: MergeRequestSubject; discussionId?: string },
) {
  const payload = gitlabPayload('note-merge-request');
  const proj = project(options.project);
  payload.project = { ...payload.project, ...proj };
  payload.project_id = proj.id;
  payload.user = { ...payload.user, ...user(options.user) };
  const mr = options.mergeRequest;
  Object.assign(payload.object_attributes, {
    id: options.note.id,
    note: options.note.body,
    author_id: options.user.id,
    project_id: proj.id,
    system: options.note.system ?? false,
    action: options.note.action ?? 'create',
    url: `${proj.web_url}/-/merge_requests/${mr.iid}#note_${options.note.id}`,
    created_at: gitlabTime(options.note.createdAt ?? new Date()),
    updated_at: gitlabTime(options.note.createdAt ?? new Date()),
    ...(options.discussionId ? { type: 'DiscussionNote', discussion_id: options.discussionId } : {}),
  });
  Object.assign(payload.merge_request, {
    iid: mr.iid,
    title: mr.title ?? 'Merge request',
    description: mr.description ?? '',
    source_branch: mr.sourceBranch ?? payload.merge_request.source_branch,
    target_branch: proj.default_branch,
    source_project_id: mr.sourceProjectId ?? proj.id,
    target_project_id: proj.id,
    url: `${proj.web_url}/-/merge_requests/${mr.iid}`,
  });
  payload.merge_request.source = { ...payload.merge_request.source, ...proj };
  payload.merge_request.target = { ...payload.merge_request.target, ...proj };
  return payload;
}

let lastStamp = 0;

/**
 * When GitLab builds an issue or merge request event it stamps the update (`updated_at`), so two
 * updates never send the same payload; builders do the same, one second apart at least.
 */
function stamp(payload: { object_attributes: Record<string, unknown>; changes?: Record<string, unknown> }) {
  const previous = lastStamp;
  lastStamp = Math.max(Math.floor(Date.now() / 1000) * 1000, lastStamp + 1000);
  const at = (ms: number) => gitlabTime(new Date(ms));
  payload.object_attributes.updated_at = at(lastStamp);
  if (payload.changes?.updated_at)
    payload.changes.updated_at = { previous: at(previous || lastStamp - 60_000), current: at(lastStamp) };
}

function labelOf(title: string, id: number) {
  const base = gitlabPayload('issue').changes.labels.current[0];
  return { ...base, id, title, project_id: 1, group_id: null };
}

/** An issue update that changes its labels from `previous` to `current` (`Issue Hook`). */
export function issueLabelsChanged(options: {
  project: ProjectOptions;
  user: UserOptions;
  issue: { iid: number; title?: string; description?: string; confidential?: boolean };
  previous: string[];
  current: string[];
  action?: 'update' | 'open';
}) {
  const payload = gitlabPayload('issue');
  const proj = project(options.project);
  payload.project = { ...payload.project, ...proj };
  payload.user = { ...payload.user, ...user(options.user) };
  const current = options.current.map((t, i) => labelOf(t, 500 + i));
  Object.assign(payload.object_attributes, {
    iid: options.issue.iid,
    project_id: proj.id,
    title: options.issue.title ?? 'Issue',
    description: options.issue.description ?? '',
    url: `${proj.web_url}/-/issues/${options.issue.iid}`,
    action: options.action ?? 'update',
    confidential: options.issue.confidential ?? false,
    labels: current,
  });
  payload.labels = current;
  payload.changes.labels = {
    previous: options.previous.map((t, i) => labelOf(t, 400 + i)),
    current,
  };
  stamp(payload);
  return payload;
}

/** A merge request merged (`action: merge`) or closed (`action: close`) (`Merge Request Hook`). */
export function mergeRequestEvent(options: {
  project: ProjectOptions;
  user: UserOptions;
  iid: number;
  action: 'merge' | 'close' | 'update' | 'open';
  sourceBranch?: string;
}) {
  const payload = gitlabPayload('merge-request');
  const proj = project(options.project);
  payload.project = { ...payload.project, ...proj };
  payload.user = { ...payload.user, ...user(options.user) };
  const state = { merge: 'merged', close: 'closed', update: 'opened', open: 'opened' }[options.action];
  Object.assign(payload.object_attributes, {
    iid: options.iid,
    action: options.action,
    state,
    source_branch: options.sourceBranch ?? payload.object_attributes.source_branch,
    target_branch: proj.default_branch,
    source_project_id: proj.id,
    target_project_id: proj.id,
    url: `${proj.web_url}/-/merge_requests/${options.iid}`,
  });
  payload.object_attributes.source = { ...payload.object_attributes.source, ...proj };
  payload.object_attributes.target = { ...payload.object_attributes.target, ...proj };
  stamp(payload);
  return payload;
}

import { z } from 'zod';
import { isoTime } from '../time.js';
import type { Actor, ForgeEvent, RepoRef } from '../types.js';
import { isAccessTokenBotName } from './map.js';

/**
 * GitLab webhook (`X-Gitlab-Event` + JSON body) → ForgeEvent. Total: anything Forge does not act on
 * (other hooks, other actions, system notes, edits, confidential items, malformed payloads) is
 * `null`, never a throw.
 *
 * - Note Hook: a new note (`action: create`; GitLab before 16.11 sends no action and only fires on
 *   create) on an issue, or on a merge request — a note inside a thread (`DiscussionNote`,
 *   `DiffNote`) is a review-thread comment whose thread is its `discussion_id`.
 * - Issue Hook: the trigger label was added (in `changes.labels` current but not previous; a new
 *   issue's labels all count as added).
 * - Merge Request Hook: `merge` or `close` ends the task.
 *
 * Confidential issues and their notes (`Confidential … Hook`, `confidential: true`) are ignored:
 * their text would end up in a merge request anyone with access to the project can read.
 */
export interface NormalizeOptions {
  triggerLabel: string;
  /** Labels a project's `.gitlab/forge.yml` may choose (FORGE_REPO_TRIGGER_LABELS). */
  repoTriggerLabels?: readonly string[];
}

export const NOTE_HOOK = 'Note Hook';
export const ISSUE_HOOK = 'Issue Hook';
export const MERGE_REQUEST_HOOK = 'Merge Request Hook';

const id = z.number().int().nonnegative();
const text = z
  .string()
  .nullish()
  .catch(null)
  .transform((value) => value ?? '');
const optionalText = z.string().nullish().catch(null);

const Project = z.looseObject({
  path_with_namespace: z.string().min(1),
  git_http_url: z.string().min(1),
  default_branch: z.string().min(1),
  web_url: z.string().min(1),
});
const User = z.looseObject({ id, username: z.string().min(1) });
const Label = z.looseObject({ title: z.string() });
const Labels = z.array(Label).nullish().catch(null);

const Note = z.looseObject({
  object_kind: z.literal('note'),
  event_type: optionalText,
  user: z.looseObject({ id: id.optional(), username: z.string().min(1) }),
  project: Project,
  object_attributes: z.looseObject({
    id,
    note: text,
    noteable_type: z.string(),
    author_id: id.optional(),
    system: z.boolean().nullish().catch(null),
    action: optionalText,
    type: optionalText,
    discussion_id: optionalText,
    url: optionalText,
    created_at: optionalText,
  }),
  issue: z
    .looseObject({ iid: id, title: text, description: text, confidential: z.boolean().nullish().catch(null) })
    .optional(),
  merge_request: z.looseObject({ iid: id, title: text, description: text }).optional(),
});

const Issue = z.looseObject({
  object_kind: z.literal('issue'),
  user: User,
  project: Project,
  object_attributes: z.looseObject({
    iid: id,
    title: text,
    description: text,
    action: optionalText,
    confidential: z.boolean().nullish().catch(null),
    labels: Labels,
  }),
  labels: Labels,
  changes: z
    .looseObject({
      labels: z.looseObject({ previous: Labels, current: Labels }).nullish().catch(null),
    })
    .nullish()
    .catch(null),
});

const MergeRequest = z.looseObject({
  object_kind: z.literal('merge_request'),
  user: User,
  project: Project,
  object_attributes: z.looseObject({ iid: id, action: optionalText }),
});

export function normalizeGitLabEvent(
  eventName: string,
  deliveryId: string,
  payload: unknown,
  opts: NormalizeOptions,
): ForgeEvent | null {
  try {
    switch (eventName) {
      case NOTE_HOOK:
        return note(deliveryId, payload);
      case ISSUE_HOOK:
        return labeled(deliveryId, payload, opts);
      case MERGE_REQUEST_HOOK:
        return closed(deliveryId, payload);
      default:
        return null;
    }
  } catch {
    // The schemas should make this unreachable; a webhook must still never crash the receiver.
    return null;
  }
}

function note(deliveryId: string, payload: unknown): ForgeEvent | null {
  const p = Note.safeParse(payload);
  if (!p.success) return null;
  const { object_attributes: attrs, user, project } = p.data;
  if (attrs.system === true) return null;
  if (attrs.action && attrs.action !== 'create') return null;
  if (p.data.event_type === 'confidential_note') return null;
  const userId = user.id ?? attrs.author_id;
  if (userId === undefined) return null;
  const base = {
    deliveryId,
    repo: repoRef(project),
    actor: actor(user.username, userId),
  };
  const linkAndTime = { ...(attrs.url ? { url: attrs.url } : {}), ...isoTime(attrs.created_at) };
  if (attrs.noteable_type === 'Issue' && p.data.issue) {
    const issue = p.data.issue;
    if (issue.confidential === true) return null;
    return {
      kind: 'comment',
      ...base,
      comment: {
        id: attrs.id,
        place: { type: 'issue', number: issue.iid },
        ...linkAndTime,
        body: attrs.note,
      },
      subject: { number: issue.iid, title: issue.title, body: issue.description, isChangeRequest: false },
    };
  }
  if (attrs.noteable_type === 'MergeRequest' && p.data.merge_request) {
    const mr = p.data.merge_request;
    const inThread = (attrs.type === 'DiscussionNote' || attrs.type === 'DiffNote') && attrs.discussion_id;
    return {
      kind: 'comment',
      ...base,
      comment: {
        id: attrs.id,
        place: inThread
          ? { type: 'review_thread', number: mr.iid, threadId: attrs.discussion_id! }
          : { type: 'change_request', number: mr.iid },
        ...linkAndTime,
        body: attrs.note,
      },
      subject: { number: mr.iid, title: mr.title, body: mr.description, isChangeRequest: true },
    };
  }
  return null;
}

function labeled(deliveryId: string, payload: unknown, opts: NormalizeOptions): ForgeEvent | null {
  const p = Issue.safeParse(payload);
  if (!p.success) return null;
  const { object_attributes: issue, user, project, changes } = p.data;
  if (issue.confidential === true) return null;
  let added: string[];
  if (changes?.labels) {
    const before = new Set((changes.labels.previous ?? []).map((l) => l.title.toLowerCase()));
    added = (changes.labels.current ?? []).map((l) => l.title).filter((t) => !before.has(t.toLowerCase()));
  } else if (issue.action === 'open') {
    added = (issue.labels ?? p.data.labels ?? []).map((l) => l.title);
  } else {
    return null;
  }
  const wanted = [opts.triggerLabel, ...(opts.repoTriggerLabels ?? [])].map((l) => l.toLowerCase());
  const label = added.find((t) => wanted.includes(t.toLowerCase()));
  if (label === undefined) return null;
  return {
    kind: 'labeled',
    deliveryId,
    repo: repoRef(project),
    actor: actor(user.username, user.id),
    label,
    subject: { number: issue.iid, title: issue.title, body: issue.description, isChangeRequest: false },
  };
}

function closed(deliveryId: string, payload: unknown): ForgeEvent | null {
  const p = MergeRequest.safeParse(payload);
  if (!p.success) return null;
  const { object_attributes: mr, user, project } = p.data;
  if (mr.action !== 'merge' && mr.action !== 'close') return null;
  return {
    kind: 'change_request_closed',
    deliveryId,
    repo: repoRef(project),
    actor: actor(user.username, user.id),
    number: mr.iid,
    merged: mr.action === 'merge',
  };
}

function repoRef(project: z.infer<typeof Project>): RepoRef {
  return {
    forge: 'gitlab',
    path: project.path_with_namespace,
    cloneUrl: project.git_http_url,
    defaultBranch: project.default_branch,
    webUrl: project.web_url,
  };
}

/** Webhooks carry no user type; access-token bots are known by name here, the rest via the API. */
function actor(username: string, userId: number): Actor {
  return { login: username, id: userId, isBot: isAccessTokenBotName(username) };
}

import { z } from 'zod';
import { isoTime } from '../time.js';
import type { Actor, ForgeEvent, RepoRef } from '../types.js';

/**
 * GitHub webhook payload → ForgeEvent. Total: anything unexpected (other events, other actions,
 * malformed payloads) is `null`, never a throw, so a bad delivery can't take the receiver down.
 *
 * Schemas cover only the fields Forge reads and are loose (unknown keys pass through untouched):
 * GitHub adds fields all the time, and nullable text fields fall back to ''.
 */

export interface NormalizeOptions {
  /** Label that triggers Forge on an issue; compared case-insensitively, like GitHub does. */
  triggerLabel: string;
  /**
   * Further labels a repository's `.github/forge.yml` may choose as its trigger label. The webhook
   * path never calls the GitHub API, so it cannot read a repository's settings: it lets through
   * only labels the operator listed (never every labeling), and triage, which reads the settings,
   * starts a task only when the label is the one that repository's settings pick.
   */
  repoTriggerLabels?: readonly string[];
}

const id = z.number().int().nonnegative();
const text = z
  .string()
  .nullish()
  .catch(null)
  .transform((value) => value ?? '');

const Repository = z.looseObject({
  full_name: z.string().min(1),
  clone_url: z.string().min(1),
  default_branch: z.string().min(1),
  html_url: z.string().min(1),
});

const Sender = z.looseObject({ login: z.string().min(1), id, type: z.string().catch('User') });

const Envelope = z.looseObject({
  action: z.string(),
  repository: Repository,
  sender: Sender,
  // An event without an installation still normalizes; the adapter decides whether it can act on it.
  installation: z.looseObject({ id }).nullish().catch(undefined),
});

const Issue = z.looseObject({
  number: id,
  title: text,
  body: text,
  // Present (an object) when the "issue" is a pull request.
  pull_request: z.unknown().optional(),
});

const Pull = z.looseObject({
  number: id,
  title: text,
  body: text,
  merged: z.boolean().nullish().catch(null),
});

const time = z.string().nullish().catch(null);
const Comment = z.looseObject({
  id,
  body: text,
  html_url: z.string().nullish().catch(null),
  created_at: time,
});

const IssueComment = z.looseObject({ issue: Issue, comment: Comment });
const IssueLabeled = z.looseObject({ issue: Issue, label: z.looseObject({ name: z.string() }) });
const PullClosed = z.looseObject({ pull_request: Pull });
const ReviewComment = z.looseObject({
  pull_request: Pull,
  comment: Comment.extend({ in_reply_to_id: id.nullish().catch(null) }),
});
const Review = z.looseObject({
  pull_request: Pull,
  review: z.looseObject({ id, body: text, html_url: z.string().nullish().catch(null), submitted_at: time }),
});

type Envelope = z.infer<typeof Envelope>;

export function normalizeGitHubEvent(
  name: string,
  deliveryId: string,
  payload: unknown,
  opts: NormalizeOptions,
): ForgeEvent | null {
  try {
    return normalize(name, deliveryId, payload, opts);
  } catch {
    // The schemas should make this unreachable; a webhook must still never crash the receiver.
    return null;
  }
}

function normalize(
  name: string,
  deliveryId: string,
  payload: unknown,
  opts: NormalizeOptions,
): ForgeEvent | null {
  if (!HANDLED.has(name)) return null;
  const envelope = Envelope.safeParse(payload);
  if (!envelope.success) return null;
  const env = envelope.data;
  const base = { deliveryId, repo: repoRef(env), actor: actor(env) };

  switch (`${name}.${env.action}`) {
    case 'issue_comment.created': {
      const p = IssueComment.safeParse(payload);
      if (!p.success) return null;
      const { issue, comment } = p.data;
      const isChangeRequest = issue.pull_request !== undefined && issue.pull_request !== null;
      return {
        kind: 'comment',
        ...base,
        comment: {
          id: comment.id,
          place: { type: isChangeRequest ? 'change_request' : 'issue', number: issue.number },
          ...url(comment.html_url),
          ...isoTime(comment.created_at),
          body: comment.body,
        },
        subject: { number: issue.number, title: issue.title, body: issue.body, isChangeRequest },
      };
    }
    case 'issues.labeled': {
      const p = IssueLabeled.safeParse(payload);
      if (!p.success) return null;
      const { issue, label } = p.data;
      const wanted = label.name.toLowerCase();
      const labels = [opts.triggerLabel, ...(opts.repoTriggerLabels ?? [])];
      if (!labels.some((l) => l.toLowerCase() === wanted)) return null;
      return {
        kind: 'labeled',
        ...base,
        label: label.name,
        subject: { number: issue.number, title: issue.title, body: issue.body, isChangeRequest: false },
      };
    }
    case 'pull_request.closed': {
      const p = PullClosed.safeParse(payload);
      if (!p.success) return null;
      const pull = p.data.pull_request;
      return { kind: 'change_request_closed', ...base, number: pull.number, merged: pull.merged === true };
    }
    case 'pull_request_review_comment.created': {
      const p = ReviewComment.safeParse(payload);
      if (!p.success) return null;
      const { pull_request: pull, comment } = p.data;
      return {
        kind: 'comment',
        ...base,
        comment: {
          id: comment.id,
          // Replies carry the thread's first comment id: one thread, one id.
          place: {
            type: 'review_thread',
            number: pull.number,
            threadId: String(comment.in_reply_to_id ?? comment.id),
          },
          ...url(comment.html_url),
          ...isoTime(comment.created_at),
          body: comment.body,
        },
        subject: { number: pull.number, title: pull.title, body: pull.body, isChangeRequest: true },
      };
    }
    case 'pull_request_review.submitted': {
      const p = Review.safeParse(payload);
      if (!p.success) return null;
      const { pull_request: pull, review } = p.data;
      // An approval or "request changes" without a body has nothing to say to Forge.
      if (review.body.trim() === '') return null;
      return {
        kind: 'comment',
        ...base,
        comment: {
          id: review.id,
          place: { type: 'change_request', number: pull.number },
          isReview: true,
          ...url(review.html_url),
          ...isoTime(review.submitted_at),
          body: review.body,
        },
        subject: { number: pull.number, title: pull.title, body: pull.body, isChangeRequest: true },
      };
    }
    default:
      return null;
  }
}

const HANDLED: ReadonlySet<string> = new Set([
  'issue_comment',
  'issues',
  'pull_request',
  'pull_request_review_comment',
  'pull_request_review',
]);

function repoRef(env: Envelope): RepoRef {
  const { repository, installation } = env;
  return {
    forge: 'github',
    ...(installation ? { installationId: installation.id } : {}),
    path: repository.full_name,
    cloneUrl: repository.clone_url,
    defaultBranch: repository.default_branch,
    webUrl: repository.html_url,
  };
}

function actor(env: Envelope): Actor {
  return { login: env.sender.login, id: env.sender.id, isBot: env.sender.type === 'Bot' };
}

function url(value: string | null | undefined): { url?: string } {
  return value ? { url: value } : {};
}

import { stripHidden } from '../commands/sanitize.js';
import type { FeedbackComment, ReviewFeedback, ReviewThreadFeedback } from '../forge/types.js';

/**
 * Review feedback as the agent gets it: read once when the turn is asked for (later edits change
 * nothing for this turn), hidden content stripped, Forge's own progress comments dropped, and bounded so a
 * busy pull request cannot blow up the prompt — newest first, with counts of what was left out.
 */

export interface FeedbackLimits {
  /** Characters of comment text in all (bodies, after cleaning). */
  totalChars: number;
  /** One comment's body is cut beyond this. */
  commentChars: number;
  /** A thread keeps its opening comment and its newest replies up to this many comments. */
  commentsPerThread: number;
}

export const DEFAULT_FEEDBACK_LIMITS: FeedbackLimits = {
  totalChars: 80_000,
  commentChars: 4_000,
  commentsPerThread: 20,
};

export interface SnapshotThread extends ReviewThreadFeedback {
  /** Replies between the opening comment and the newest ones that were left out. */
  omittedComments?: number;
}

export interface FeedbackSnapshot {
  changeRequest: number;
  /** Newest activity first; the thread the turn was asked in (if any) leads. */
  threads: SnapshotThread[];
  reviews: ReviewFeedback['reviews'];
  comments: FeedbackComment[];
  /** What was left out to keep the prompt bounded (oldest first to go). */
  omitted: { threads: number; reviews: number; comments: number; cutComments: number };
}

/** Hidden HTML comments mark Forge's own comments (progress, settings problems, thread replies). */
const FORGE_MARKER = '<!-- forge:';

export function snapshotFeedback(
  changeRequest: number,
  raw: ReviewFeedback,
  opts: { focusThreadId?: string; limits?: Partial<FeedbackLimits> } = {},
): FeedbackSnapshot {
  const limits = { ...DEFAULT_FEEDBACK_LIMITS, ...opts.limits };
  let cutComments = 0;
  const clean = <T extends FeedbackComment>(c: T): T | undefined => {
    let body = stripHidden(c.body).trim();
    if (body === '') return undefined;
    if (body.length > limits.commentChars) {
      cutComments++;
      body = `${body.slice(0, limits.commentChars)}\n…(cut: ${body.length - limits.commentChars} more characters)`;
    }
    return { ...c, author: stripHidden(c.author), body };
  };

  const threads: SnapshotThread[] = [];
  for (const thread of raw.threads) {
    const comments = thread.comments.map(clean).filter((c) => c !== undefined);
    if (!comments.length) continue;
    const keep = Math.max(2, limits.commentsPerThread);
    const omittedComments = Math.max(0, comments.length - keep);
    const kept = omittedComments ? [comments[0]!, ...comments.slice(comments.length - (keep - 1))] : comments;
    threads.push({ ...thread, comments: kept, ...(omittedComments ? { omittedComments } : {}) });
  }
  const byNewest = <T>(items: T[], time: (item: T) => string): T[] =>
    items
      .map((item, i) => ({ item, i, t: Date.parse(time(item)) || 0 }))
      .sort((a, b) => b.t - a.t || b.i - a.i)
      .map((x) => x.item);
  const lastAt = (t: SnapshotThread) => t.comments.at(-1)?.createdAt ?? '';
  const orderedThreads = byNewest(threads, lastAt);
  const focus = orderedThreads.findIndex((t) => t.threadId === opts.focusThreadId);
  if (focus > 0) orderedThreads.unshift(...orderedThreads.splice(focus, 1));
  const reviews = byNewest(
    raw.reviews.map(clean).filter((r) => r !== undefined),
    (r) => r.createdAt,
  );
  const comments = byNewest(
    raw.comments
      .filter((c) => !c.body.includes(FORGE_MARKER))
      .map(clean)
      .filter((c) => c !== undefined),
    (c) => c.createdAt,
  );

  // Threads ask for changes most directly, then review bodies, then the conversation; within each,
  // the newest go first and the oldest are left out once the budget is spent.
  let budget = limits.totalChars;
  const take = <T>(items: T[], size: (item: T) => number, always?: (item: T) => boolean) => {
    const kept: T[] = [];
    let full = false;
    for (const item of items) {
      const cost = size(item);
      if (always?.(item) || (!full && cost <= budget)) {
        kept.push(item);
        budget -= cost;
      } else full = true;
    }
    return { kept, omitted: items.length - kept.length };
  };
  const bodySize = (c: FeedbackComment) => c.body.length + 80;
  const keptThreads = take(
    orderedThreads,
    (t) => t.comments.reduce((sum, c) => sum + bodySize(c), 80),
    (t) => t.threadId === opts.focusThreadId,
  );
  const keptReviews = take(reviews, bodySize);
  const keptComments = take(comments, bodySize);
  return {
    changeRequest,
    threads: keptThreads.kept,
    reviews: keptReviews.kept,
    comments: keptComments.kept,
    omitted: {
      threads: keptThreads.omitted,
      reviews: keptReviews.omitted,
      comments: keptComments.omitted,
      cutComments,
    },
  };
}

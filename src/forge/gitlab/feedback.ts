import type { FeedbackComment, ReviewFeedback, ReviewThreadFeedback } from '../types.js';
import type { GitLabClient } from './client.js';

interface DiscussionNote {
  id: number;
  body: string;
  system?: boolean;
  created_at: string;
  author?: { id?: number; username?: string } | null;
  resolvable?: boolean;
  resolved?: boolean;
  position?: {
    new_path?: string | null;
    old_path?: string | null;
    new_line?: number | null;
    old_line?: number | null;
  } | null;
}

interface Discussion {
  id: string;
  individual_note: boolean;
  notes: DiscussionNote[];
}

/**
 * What reviewers said on a merge request, from its discussions (every page), oldest first:
 * unresolved threads (resolved ones are done) with all their notes, and plain comments (Forge's own
 * included: callers filter). GitLab has no review bodies — a review's summary is a plain comment and
 * approving says nothing — so `reviews` is empty. System notes ("added 1 commit") are not feedback.
 */
export async function listReviewFeedback(
  api: GitLabClient,
  project: string,
  number: number,
  options: { webUrl?: string } = {},
): Promise<ReviewFeedback> {
  const discussions = (await api.discussions.all(project, number, {
    perPage: 100,
  })) as unknown as Discussion[];
  const link = (id: number) =>
    options.webUrl ? { url: `${options.webUrl}/-/merge_requests/${number}#note_${id}` } : {};
  const said = (note: DiscussionNote): FeedbackComment => ({
    author: note.author?.username ?? '',
    body: note.body,
    createdAt: note.created_at,
    ...link(note.id),
  });
  const threads: ReviewThreadFeedback[] = [];
  const comments: FeedbackComment[] = [];
  for (const discussion of discussions) {
    const notes = discussion.notes.filter((n) => !n.system);
    if (!notes.length) continue;
    if (discussion.individual_note) {
      const [note] = notes;
      if (note) comments.push(said(note));
      continue;
    }
    if (notes.some((n) => n.resolvable) && notes.every((n) => !n.resolvable || n.resolved)) continue;
    const position = notes[0]!.position;
    const path = position?.new_path ?? position?.old_path ?? undefined;
    const line = position?.new_line ?? position?.old_line ?? undefined;
    threads.push({
      threadId: discussion.id,
      ...(path ? { path } : {}),
      ...(line ? { line } : {}),
      comments: notes.map(said),
    });
  }
  return { threads, reviews: [], comments };
}

import type { FakeContext } from '../context.js';
import { type Handler, type HandlerRequest, int, notFound, repoOf } from '../context.js';
import { reactionShape } from '../shapes-issues.js';
import { now, type ReactionContent, type ReactionState } from '../state.js';

/** Reactions on issue comments and review comments: 201 when new, 200 with the existing one on repeat. */

function react(subject: ReactionState['subject']): Handler {
  return (req: HandlerRequest, f: FakeContext) => {
    const repo = repoOf(req);
    const id = int(req.params.comment_id);
    const comment = subject === 'issue_comment' ? f.state.comments.get(id) : f.state.reviewComments.get(id);
    if (!comment || comment.repo.toLowerCase() !== repo.fullName.toLowerCase()) throw notFound();
    const content = req.body.content as ReactionContent;
    const existing = f.state.reactions.find(
      (r) => r.subject === subject && r.commentId === id && r.content === content && r.user === req.actor,
    );
    if (existing) return { status: 200, body: reactionShape(f.shapes, existing) };
    const r: ReactionState = {
      id: f.state.id(),
      repo: repo.fullName,
      subject,
      commentId: id,
      content,
      user: req.actor,
      createdAt: now(),
    };
    f.state.reactions.push(r);
    return { status: 201, body: reactionShape(f.shapes, r) };
  };
}

export const reactionHandlers: Record<string, Handler> = {
  'reactions/create-for-issue-comment': react('issue_comment'),
  'reactions/create-for-pull-request-review-comment': react('review_comment'),
};

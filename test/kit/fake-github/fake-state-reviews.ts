import { FakeGitHubState } from './fake-state.js';
import { fakeSha, now, type ReviewState, type ReviewStateName } from './state.js';

/**
 * Seeding and reading pull request reviews and the resolution state of review threads (which
 * GitHub exposes only through GraphQL). A thread is identified by its first comment's id, as
 * Forge and GitHub's REST API do.
 */
export class FakeGitHubReviewState extends FakeGitHubState {
  /** A submitted review (PENDING ones have no `submittedAt` and only their author sees them). */
  addReview(
    repo: string,
    pullNumber: number,
    input: { body: string; user: string; state?: ReviewStateName },
  ): { id: number } {
    const r = this.repo(repo);
    this.pull(repo, pullNumber);
    const state = input.state ?? 'COMMENTED';
    const review: ReviewState = {
      id: this.state.id(),
      repo: r.fullName,
      pullNumber,
      body: input.body,
      user: input.user,
      state,
      commitId: fakeSha(repo, String(pullNumber)),
      submittedAt: state === 'PENDING' ? null : now(),
    };
    this.state.reviews.set(review.id, review);
    return { id: review.id };
  }

  /** Marks the thread that `rootCommentId` opened as resolved (or unresolved again). */
  resolveThread(repo: string, rootCommentId: number, by = 'maya', resolved = true): void {
    const root = this.state.reviewComments.get(rootCommentId);
    if (!root || root.repo !== this.repo(repo).fullName || root.inReplyToId !== undefined) {
      throw new Error(`fake GitHub: ${rootCommentId} does not open a review thread in ${repo}`);
    }
    if (resolved) this.state.resolvedThreads.set(rootCommentId, by);
    else this.state.resolvedThreads.delete(rootCommentId);
  }

  /** A reviewer edits their review comment (GitHub keeps its id and thread). */
  editReviewComment(repo: string, commentId: number, body: string): void {
    const comment = this.state.reviewComments.get(commentId);
    if (!comment || comment.repo !== this.repo(repo).fullName) {
      throw new Error(`fake GitHub: no review comment ${commentId} in ${repo}`);
    }
    comment.body = body;
    comment.updatedAt = now();
  }

  reviews(repo: string, pullNumber: number): ReviewState[] {
    const r = this.repo(repo);
    return [...this.state.reviews.values()]
      .filter((x) => x.repo === r.fullName && x.pullNumber === pullNumber)
      .sort((a, b) => a.id - b.id);
  }
}

import { examplePayload, issueCommentCreated } from '../kit/webhooks.js';
import { type Harness, INSTALLATION, REPO } from './harness.js';

/**
 * A submitted pull request review, as GitHub sends it: the review is added to the fake GitHub's
 * state (so GraphQL serves it) and `pull_request_review.submitted` is delivered with the real
 * example payload's shape, its repository, installation and sender made consistent.
 */
export async function submitReview(
  h: Harness,
  input: { pr: number; body: string; user?: string; state?: 'COMMENTED' | 'APPROVED' | 'CHANGES_REQUESTED' },
): Promise<{ status: number; reviewId: number }> {
  const user = input.user ?? 'alice';
  const state = input.state ?? 'COMMENTED';
  const { id: reviewId } = h.github.addReview(REPO, input.pr, { body: input.body, user, state });
  const pull = h.github.issue(REPO, input.pr);
  const base = issueCommentCreated({
    repo: { ...h.repo, defaultBranch: 'main' },
    installationId: INSTALLATION,
    issue: { number: input.pr, isPullRequest: true },
    comment: { id: reviewId, body: input.body },
    sender: { login: user, id: 1000 + user.length, type: 'User' },
  });
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.review = {
    ...payload.review,
    id: reviewId,
    body: input.body,
    state: state.toLowerCase(),
    user: base.sender,
    submitted_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    html_url: `https://github.com/${REPO}/pull/${input.pr}#pullrequestreview-${reviewId}`,
    pull_request_url: `https://api.github.com/repos/${REPO}/pulls/${input.pr}`,
  };
  payload.pull_request = {
    ...payload.pull_request,
    number: input.pr,
    title: pull?.title ?? 'PR',
    body: pull?.body ?? '',
  };
  payload.repository = base.repository;
  payload.installation = base.installation;
  payload.sender = base.sender;
  const { status } = await h.deliver('pull_request_review', payload);
  return { status, reviewId };
}

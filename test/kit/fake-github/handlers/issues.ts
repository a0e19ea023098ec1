import { type Handler, type HandlerRequest, int, notFound, paginate, repoOf } from '../context.js';
import { commentShape, issueShape } from '../shapes-issues.js';
import { type CommentState, now, type State } from '../state.js';

/** Issues (pull requests included: they are issues too) and their comments. */

function commentIn(state: State, req: HandlerRequest): CommentState {
  const c = state.comments.get(int(req.params.comment_id));
  if (!c || c.repo.toLowerCase() !== repoOf(req).fullName.toLowerCase()) throw notFound();
  return c;
}

export const issueHandlers: Record<string, Handler> = {
  'issues/get': (req, f) => {
    const issue = f.state.issue(repoOf(req).fullName, int(req.params.issue_number));
    if (!issue) throw notFound();
    return { status: 200, body: issueShape(f.shapes, issue) };
  },

  'issues/create-comment': (req, f) => {
    const repo = repoOf(req);
    const issue = f.state.issue(repo.fullName, int(req.params.issue_number));
    if (!issue) throw notFound();
    const at = now();
    const c: CommentState = {
      id: f.state.id(),
      repo: repo.fullName,
      issueNumber: issue.number,
      body: String(req.body.body),
      user: req.actor,
      createdAt: at,
      updatedAt: at,
    };
    f.state.comments.set(c.id, c);
    issue.updatedAt = at;
    return {
      status: 201,
      body: commentShape(f.shapes, c),
      headers: { location: `${f.shapes.api}/repos/${repo.fullName}/issues/comments/${c.id}` },
    };
  },

  'issues/get-comment': (req, f) => ({ status: 200, body: commentShape(f.shapes, commentIn(f.state, req)) }),

  'issues/update-comment': (req, f) => {
    const c = commentIn(f.state, req);
    c.body = String(req.body.body);
    c.updatedAt = now();
    return { status: 200, body: commentShape(f.shapes, c) };
  },

  'issues/delete-comment': (req, f) => {
    f.state.comments.delete(commentIn(f.state, req).id);
    return { status: 204 };
  },

  'issues/list-comments': (req, f) => {
    const repo = repoOf(req);
    const issue = f.state.issue(repo.fullName, int(req.params.issue_number));
    if (!issue) throw notFound();
    const since = req.query.get('since');
    const all = [...f.state.comments.values()]
      .filter(
        (c) => c.repo === issue.repo && c.issueNumber === issue.number && (!since || c.updatedAt >= since),
      )
      .sort((a, b) => a.id - b.id);
    const { page, headers } = paginate(all, req);
    return { status: 200, body: page.map((c) => commentShape(f.shapes, c)), headers };
  },
};

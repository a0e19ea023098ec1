import {
  type FakeContext,
  type Handler,
  type HandlerRequest,
  HttpError,
  int,
  notFound,
  paginate,
  repoOf,
} from '../context.js';
import { externalRepo } from '../shapes.js';
import { pullShape, reviewCommentShape } from '../shapes-issues.js';
import { fakeSha, type IssueState, now, type ReviewCommentState } from '../state.js';

/** Pull requests (which share the issue number sequence) and their review comments. */

export async function renderPull(f: FakeContext, issue: IssueState) {
  const base = externalRepo(f.shapes, issue.repo, false);
  const baseRef = issue.pull?.base ?? base.defaultBranch;
  const baseSha = (await f.branchSha(base, baseRef)) ?? fakeSha(base.fullName, baseRef);
  return pullShape(f.shapes, issue, await f.pullHeadSha(issue), baseSha);
}

function pullIn(req: HandlerRequest, f: FakeContext): IssueState {
  const issue = f.state.issue(repoOf(req).fullName, int(req.params.pull_number));
  if (!issue?.pull) throw notFound();
  return issue;
}

/** `head` is `branch` or `owner:branch`; another owner means a fork with the same repository name. */
function parseHead(
  head: string,
  repoOwner: string,
  repoName: string,
): { owner: string; ref: string; headRepo: string } {
  const i = head.indexOf(':');
  const owner = i >= 0 ? head.slice(0, i) : repoOwner;
  const ref = i >= 0 ? head.slice(i + 1) : head;
  return { owner, ref, headRepo: `${owner}/${repoName}` };
}

function unprocessable(message: string, field: string, code = 'invalid'): HttpError {
  return new HttpError(422, 'Validation Failed', [{ resource: 'PullRequest', field, code, message }]);
}

export const pullHandlers: Record<string, Handler> = {
  'pulls/create': async (req, f) => {
    const repo = repoOf(req);
    const head = parseHead(String(req.body.head), repo.owner, repo.name);
    const base = String(req.body.base);
    const fork = head.owner.toLowerCase() !== repo.owner.toLowerCase();
    const checkBranches = Boolean(f.hooks.branchExists || f.hooks.headSha);
    if (checkBranches && !(await f.branchSha(repo, base)))
      throw unprocessable(`base ${base} does not exist`, 'base');
    if (checkBranches && !(await f.branchSha(externalRepo(f.shapes, head.headRepo, fork), head.ref))) {
      throw unprocessable(`head ${head.ref} does not exist`, 'head');
    }
    if (!fork && head.ref === base)
      throw new HttpError(422, 'Validation Failed', [
        { resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head.ref}` },
      ]);
    const duplicate = f.state
      .issuesOf(repo.fullName)
      .find(
        (i) =>
          i.pull &&
          i.state === 'open' &&
          i.pull.head === head.ref &&
          i.pull.headRepo.toLowerCase() === head.headRepo.toLowerCase() &&
          i.pull.base === base,
      );
    if (duplicate) {
      throw new HttpError(422, 'Validation Failed', [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${head.owner}:${head.ref}.`,
        },
      ]);
    }
    const at = now();
    let issue: IssueState;
    if (req.body.issue !== undefined) {
      const existing = f.state.issue(repo.fullName, Number(req.body.issue));
      if (!existing || existing.pull) throw unprocessable('issue is not an open issue', 'issue');
      issue = existing;
    } else {
      issue = {
        id: f.state.id(),
        repo: repo.fullName,
        number: repo.nextNumber++,
        title: String(req.body.title),
        body: null,
        user: req.actor,
        state: 'open',
        labels: [],
        createdAt: at,
        updatedAt: at,
        closedAt: null,
      };
    }
    if (typeof req.body.body === 'string') issue.body = req.body.body;
    issue.pull = {
      id: f.state.id(),
      head: head.ref,
      headRepo: head.headRepo,
      headFork: fork,
      base,
      draft: req.body.draft === true,
      merged: false,
      mergedAt: null,
      maintainerCanModify: req.body.maintainer_can_modify !== false,
    };
    f.state.putIssue(issue);
    const body = await renderPull(f, issue);
    return { status: 201, body, headers: { location: body.url } };
  },

  'pulls/get': async (req, f) => ({ status: 200, body: await renderPull(f, pullIn(req, f)) }),

  'pulls/list': async (req, f) => {
    const repo = repoOf(req);
    const state = req.query.get('state') ?? 'open';
    const headFilter = req.query.get('head');
    const head = headFilter ? parseHead(headFilter, repo.owner, repo.name) : undefined;
    const base = req.query.get('base');
    const sort = req.query.get('sort') ?? 'created';
    const direction = req.query.get('direction') ?? (sort === 'created' ? 'desc' : 'desc');
    const key = (i: IssueState) =>
      (sort === 'updated' ? i.updatedAt : i.createdAt) + String(i.number).padStart(9, '0');
    const pulls = f.state
      .issuesOf(repo.fullName)
      .filter((i) => i.pull && (state === 'all' || i.state === state))
      .filter(
        (i) =>
          !head ||
          (i.pull?.head === head.ref &&
            i.pull.headRepo.split('/')[0]?.toLowerCase() === head.owner.toLowerCase()),
      )
      .filter((i) => !base || i.pull?.base === base)
      .sort((a, b) => (direction === 'asc' ? key(a).localeCompare(key(b)) : key(b).localeCompare(key(a))));
    const { page, headers } = paginate(pulls, req);
    return { status: 200, body: await Promise.all(page.map((i) => renderPull(f, i))), headers };
  },

  'pulls/update': async (req, f) => {
    const issue = pullIn(req, f);
    const pull = issue.pull as NonNullable<IssueState['pull']>;
    const b = req.body;
    if (typeof b.title === 'string') issue.title = b.title;
    if (typeof b.body === 'string') issue.body = b.body;
    if (typeof b.base === 'string') pull.base = b.base;
    if (typeof b.maintainer_can_modify === 'boolean') pull.maintainerCanModify = b.maintainer_can_modify;
    if (b.state === 'closed' && issue.state === 'open') {
      issue.state = 'closed';
      issue.closedAt = now();
    } else if (b.state === 'open' && issue.state === 'closed') {
      if (pull.merged) throw unprocessable('cannot reopen a merged pull request', 'state');
      issue.state = 'open';
      issue.closedAt = null;
    }
    issue.updatedAt = now();
    return { status: 200, body: await renderPull(f, issue) };
  },

  'pulls/list-review-comments': (req, f) => {
    const issue = pullIn(req, f);
    const all = [...f.state.reviewComments.values()]
      .filter((c) => c.repo === issue.repo && c.pullNumber === issue.number)
      .sort((a, b) => a.id - b.id);
    const { page, headers } = paginate(all, req);
    return { status: 200, body: page.map((c) => reviewCommentShape(f.shapes, c)), headers };
  },

  'pulls/get-review-comment': (req, f) => {
    const c = f.state.reviewComments.get(int(req.params.comment_id));
    if (!c || c.repo.toLowerCase() !== repoOf(req).fullName.toLowerCase()) throw notFound();
    return { status: 200, body: reviewCommentShape(f.shapes, c) };
  },

  'pulls/create-reply-for-review-comment': (req, f) => reply(req, f, int(req.params.comment_id)),

  'pulls/create-review-comment': async (req, f) => {
    if (req.body.in_reply_to !== undefined) return reply(req, f, Number(req.body.in_reply_to));
    const issue = pullIn(req, f);
    const line = Number(req.body.line ?? req.body.position ?? 1);
    return created(
      f,
      issue,
      { path: String(req.body.path), line, commitId: String(req.body.commit_id) },
      String(req.body.body),
      req.actor,
    );
  },
};

function reply(req: HandlerRequest, f: FakeContext, commentId: number) {
  const issue = pullIn(req, f);
  const target = f.state.reviewComments.get(commentId);
  if (!target || target.repo !== issue.repo || target.pullNumber !== issue.number) throw notFound();
  // Threads are flat on GitHub: a reply to a reply joins the thread of the first comment.
  const root =
    target.inReplyToId !== undefined ? (f.state.reviewComments.get(target.inReplyToId) ?? target) : target;
  return created(
    f,
    issue,
    { path: root.path, line: root.line, commitId: root.commitId, inReplyToId: root.id },
    String(req.body.body),
    req.actor,
  );
}

function created(
  f: FakeContext,
  issue: IssueState,
  where: Pick<ReviewCommentState, 'path' | 'line' | 'commitId' | 'inReplyToId'>,
  body: string,
  user: string,
) {
  const at = now();
  const c: ReviewCommentState = {
    id: f.state.id(),
    repo: issue.repo,
    pullNumber: issue.number,
    body,
    user,
    createdAt: at,
    updatedAt: at,
    ...where,
  };
  f.state.reviewComments.set(c.id, c);
  return { status: 201, body: reviewCommentShape(f.shapes, c) };
}

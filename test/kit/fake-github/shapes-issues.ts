import { appShape, externalRepo, nodeId, repoShape, type ShapeContext, userShape } from './shapes.js';
import type { CheckRunState, CommentState, IssueState, ReactionState, ReviewCommentState } from './state.js';

/** Response builders for issues, pull requests, comments, reactions and check runs. */

const ZERO_REACTIONS = {
  total_count: 0,
  '+1': 0,
  '-1': 0,
  laugh: 0,
  confused: 0,
  heart: 0,
  hooray: 0,
  eyes: 0,
  rocket: 0,
};

function reactionRollup(
  ctx: ShapeContext,
  url: string,
  subject: ReactionState['subject'],
  commentId: number | undefined,
) {
  const rollup: Record<string, number | string> = { url: `${url}/reactions`, ...ZERO_REACTIONS };
  if (commentId !== undefined) {
    for (const r of ctx.state.reactions) {
      if (r.subject === subject && r.commentId === commentId) {
        rollup[r.content] = (rollup[r.content] as number) + 1;
        rollup.total_count = (rollup.total_count as number) + 1;
      }
    }
  }
  return rollup;
}

export function association(ctx: ShapeContext, repo: string, login: string): string {
  const r = ctx.state.repo(repo);
  if (r && login.toLowerCase() === r.owner.toLowerCase()) return 'OWNER';
  const role = r?.permissions.get(login.toLowerCase());
  return role && role !== 'none' && role !== 'read' ? 'COLLABORATOR' : 'NONE';
}

export function issueShape(ctx: ShapeContext, i: IssueState) {
  const u = `${ctx.api}/repos/${i.repo}/issues/${i.number}`;
  const html = `${ctx.web}/${i.repo}/${i.pull ? 'pull' : 'issues'}/${i.number}`;
  const comments = [...ctx.state.comments.values()].filter(
    (c) => c.repo === i.repo && c.issueNumber === i.number,
  ).length;
  return {
    id: i.id,
    node_id: nodeId(i.pull ? 'PullRequest' : 'Issue', i.id),
    url: u,
    repository_url: `${ctx.api}/repos/${i.repo}`,
    labels_url: `${u}/labels{/name}`,
    comments_url: `${u}/comments`,
    events_url: `${u}/events`,
    html_url: html,
    number: i.number,
    state: i.state,
    state_reason: null,
    title: i.title,
    body: i.body,
    user: userShape(ctx, i.user),
    labels: i.labels.map((name, n) => ({
      id: n + 1,
      node_id: nodeId('Label', n + 1),
      url: `${ctx.api}/repos/${i.repo}/labels/${encodeURIComponent(name)}`,
      name,
      description: null,
      color: 'ededed',
      default: false,
    })),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments,
    ...(i.pull
      ? {
          pull_request: {
            url: `${ctx.api}/repos/${i.repo}/pulls/${i.number}`,
            html_url: html,
            diff_url: `${html}.diff`,
            patch_url: `${html}.patch`,
            merged_at: i.pull.mergedAt,
          },
          draft: i.pull.draft,
        }
      : {}),
    closed_at: i.closedAt,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_by: null,
    author_association: association(ctx, i.repo, i.user),
    reactions: reactionRollup(ctx, u, 'issue_comment', undefined),
    timeline_url: `${u}/timeline`,
  };
}

export function commentShape(ctx: ShapeContext, c: CommentState) {
  const u = `${ctx.api}/repos/${c.repo}/issues/comments/${c.id}`;
  const kind = ctx.state.issue(c.repo, c.issueNumber)?.pull ? 'pull' : 'issues';
  return {
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    url: u,
    html_url: `${ctx.web}/${c.repo}/${kind}/${c.issueNumber}#issuecomment-${c.id}`,
    body: c.body,
    user: userShape(ctx, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: `${ctx.api}/repos/${c.repo}/issues/${c.issueNumber}`,
    author_association: association(ctx, c.repo, c.user),
    reactions: reactionRollup(ctx, u, 'issue_comment', c.id),
  };
}

/** `headSha` is resolved by the caller (it may come from an async git-server hook). */
export function pullShape(ctx: ShapeContext, i: IssueState, headSha: string, baseSha: string) {
  const p = i.pull;
  if (!p) throw new Error(`#${i.number} is not a pull request`);
  const base = externalRepo(ctx, i.repo, false);
  const head = externalRepo(ctx, p.headRepo, p.headFork);
  const u = `${ctx.api}/repos/${i.repo}/pulls/${i.number}`;
  const html = `${ctx.web}/${i.repo}/pull/${i.number}`;
  const issue = issueShape(ctx, i);
  const link = (href: string) => ({ href });
  return {
    url: u,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue.url,
    commits_url: `${u}/commits`,
    review_comments_url: `${u}/comments`,
    review_comment_url: `${ctx.api}/repos/${i.repo}/pulls/comments{/number}`,
    comments_url: issue.comments_url,
    statuses_url: `${ctx.api}/repos/${i.repo}/statuses/${headSha}`,
    number: i.number,
    state: i.state,
    locked: false,
    title: i.title,
    user: userShape(ctx, i.user),
    body: i.body,
    labels: issue.labels,
    milestone: null,
    active_lock_reason: null,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_at: i.closedAt,
    merged_at: p.mergedAt,
    merge_commit_sha: p.merged ? headSha : null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: {
      label: `${head.owner}:${p.head}`,
      ref: p.head,
      sha: headSha,
      user: userShape(ctx, head.owner),
      repo: repoShape(ctx, head),
    },
    base: {
      label: `${base.owner}:${p.base}`,
      ref: p.base,
      sha: baseSha,
      user: userShape(ctx, base.owner),
      repo: repoShape(ctx, base),
    },
    _links: {
      self: link(u),
      html: link(html),
      issue: link(issue.url),
      comments: link(issue.comments_url),
      review_comments: link(`${u}/comments`),
      review_comment: link(`${ctx.api}/repos/${i.repo}/pulls/comments{/number}`),
      commits: link(`${u}/commits`),
      statuses: link(`${ctx.api}/repos/${i.repo}/statuses/${headSha}`),
    },
    author_association: issue.author_association,
    auto_merge: null,
    draft: p.draft,
    merged: p.merged,
    mergeable: null,
    rebaseable: null,
    mergeable_state: 'unknown',
    merged_by: null,
    comments: issue.comments,
    review_comments: [...ctx.state.reviewComments.values()].filter(
      (c) => c.repo === i.repo && c.pullNumber === i.number,
    ).length,
    maintainer_can_modify: p.maintainerCanModify,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  };
}

export function reviewCommentShape(ctx: ShapeContext, c: ReviewCommentState) {
  const u = `${ctx.api}/repos/${c.repo}/pulls/comments/${c.id}`;
  const pullUrl = `${ctx.api}/repos/${c.repo}/pulls/${c.pullNumber}`;
  const html = `${ctx.web}/${c.repo}/pull/${c.pullNumber}#discussion_r${c.id}`;
  return {
    url: u,
    pull_request_review_id: null,
    id: c.id,
    node_id: nodeId('PullRequestReviewComment', c.id),
    diff_hunk: `@@ -1,1 +1,1 @@\n+line`,
    path: c.path,
    position: c.line,
    original_position: c.line,
    commit_id: c.commitId,
    original_commit_id: c.commitId,
    ...(c.inReplyToId !== undefined ? { in_reply_to_id: c.inReplyToId } : {}),
    user: userShape(ctx, c.user),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: html,
    pull_request_url: pullUrl,
    author_association: association(ctx, c.repo, c.user),
    _links: { self: { href: u }, html: { href: html }, pull_request: { href: pullUrl } },
    line: c.line,
    original_line: c.line,
    side: 'RIGHT',
    subject_type: 'line',
    reactions: reactionRollup(ctx, u, 'review_comment', c.id),
  };
}

export function reactionShape(ctx: ShapeContext, r: ReactionState) {
  return {
    id: r.id,
    node_id: nodeId('Reaction', r.id),
    user: userShape(ctx, r.user),
    content: r.content,
    created_at: r.createdAt,
  };
}

export function checkRunShape(ctx: ShapeContext, c: CheckRunState) {
  const u = `${ctx.api}/repos/${c.repo}/check-runs/${c.id}`;
  const pulls = ctx.state
    .issuesOf(c.repo)
    .filter((i) => i.pull && i.state === 'open' && i.pull.headSha === c.headSha)
    .map((i) => {
      const repo = repoShape(ctx, externalRepo(ctx, i.repo, false));
      const side = (ref: string, sha: string) => ({
        ref,
        sha,
        repo: { id: repo.id, url: repo.url, name: repo.name },
      });
      return {
        id: i.pull?.id ?? 0,
        number: i.number,
        url: `${ctx.api}/repos/${i.repo}/pulls/${i.number}`,
        head: side(i.pull?.head ?? '', c.headSha),
        base: side(i.pull?.base ?? '', c.headSha),
      };
    });
  return {
    id: c.id,
    head_sha: c.headSha,
    node_id: nodeId('CheckRun', c.id),
    external_id: c.externalId,
    url: u,
    html_url: `${ctx.web}/${c.repo}/runs/${c.id}`,
    details_url: c.detailsUrl ?? `${ctx.web}/apps/${ctx.app.slug}`,
    status: c.status,
    conclusion: c.conclusion,
    started_at: c.startedAt,
    completed_at: c.completedAt,
    output: { ...c.output, annotations_count: 0, annotations_url: `${u}/annotations` },
    name: c.name,
    check_suite: { id: c.id + 1_000_000 },
    app: appShape(ctx),
    pull_requests: pulls,
  };
}

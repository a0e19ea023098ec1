import { nodeId, type ShapeContext } from '../shapes.js';
import { association } from '../shapes-issues.js';
import type { CommentState, IssueState, RepoState, ReviewCommentState, ReviewState } from '../state.js';
import { type ConnectionArgs, connection, GitHubGraphqlError } from './connection.js';

/**
 * The part of GitHub's GraphQL object graph Forge reads, built from the fake's state. Each object
 * holds exactly the fields the fake implements (values, or functions of the field's arguments);
 * asking for any other field is reported by the executor as unimplemented, never answered with
 * a made-up value. `__typename` resolves interfaces (`Actor`, `Node`).
 */

export interface GraphContext {
  shapes: ShapeContext;
  /** May the caller (an installation token) see this repository? */
  canSee(repo: RepoState): boolean;
}

type Obj = Record<string, unknown>;

export function queryRoot(ctx: GraphContext): Obj {
  return {
    repository: (args: { owner: string; name: string }) => {
      const repo = ctx.shapes.state.repo(`${args.owner}/${args.name}`);
      if (!repo || !ctx.canSee(repo)) {
        throw new GitHubGraphqlError(
          'NOT_FOUND',
          `Could not resolve to a Repository with the name '${args.owner}/${args.name}'.`,
        );
      }
      return repository(ctx, repo);
    },
    node: (args: { id: string }) => nodeById(ctx, args.id),
  };
}

function repository(ctx: GraphContext, repo: RepoState): Obj {
  return {
    __typename: 'Repository',
    id: nodeId('Repository', repo.id),
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: repo.fullName,
    url: `${ctx.shapes.web}/${repo.fullName}`,
    pullRequest: (args: { number: number }) => {
      const issue = ctx.shapes.state.issue(repo.fullName, args.number);
      if (!issue?.pull) {
        throw new GitHubGraphqlError(
          'NOT_FOUND',
          `Could not resolve to a PullRequest with the number of ${args.number}.`,
        );
      }
      return pullRequest(ctx, issue);
    },
  };
}

function pullRequest(ctx: GraphContext, issue: IssueState): Obj {
  const { state } = ctx.shapes;
  const key = `${issue.repo}#${issue.number}`;
  return {
    __typename: 'PullRequest',
    id: nodeId('PullRequest', issue.pull?.id ?? issue.id),
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    url: `${ctx.shapes.web}/${issue.repo}/pull/${issue.number}`,
    reviewThreads: (args: ConnectionArgs) =>
      connection(`reviewThreads:${key}`, threadRoots(ctx, issue), args, (root) => thread(ctx, issue, root)),
    reviews: (args: ConnectionArgs & { states?: string[] | null; author?: string | null }) => {
      const reviews = [...state.reviews.values()]
        .filter((r) => r.repo === issue.repo && r.pullNumber === issue.number)
        // A pending review is visible only to its author, never to an App's token.
        .filter((r) => r.state !== 'PENDING')
        .filter((r) => !args.states || args.states.includes(r.state))
        .filter((r) => !args.author || r.user.toLowerCase() === args.author.toLowerCase())
        .sort((a, b) => a.id - b.id);
      return connection(`reviews:${key}`, reviews, args, (r) => review(ctx, issue, r));
    },
    comments: (args: ConnectionArgs) => {
      const comments = [...state.comments.values()]
        .filter((c) => c.repo === issue.repo && c.issueNumber === issue.number)
        .sort((a, b) => a.id - b.id);
      return connection(`comments:${key}`, comments, args, (c) => issueComment(ctx, issue, c));
    },
  };
}

function threadRoots(ctx: GraphContext, issue: IssueState): ReviewCommentState[] {
  return [...ctx.shapes.state.reviewComments.values()]
    .filter((c) => c.repo === issue.repo && c.pullNumber === issue.number && c.inReplyToId === undefined)
    .sort((a, b) => a.id - b.id);
}

function thread(ctx: GraphContext, issue: IssueState, root: ReviewCommentState): Obj {
  const { state } = ctx.shapes;
  const resolvedBy = state.resolvedThreads.get(root.id);
  return {
    __typename: 'PullRequestReviewThread',
    id: nodeId('PullRequestReviewThread', root.id),
    isResolved: resolvedBy !== undefined,
    isCollapsed: resolvedBy !== undefined,
    isOutdated: false,
    path: root.path,
    line: root.line,
    originalLine: root.line,
    startLine: null,
    originalStartLine: null,
    diffSide: 'RIGHT',
    startDiffSide: null,
    subjectType: 'LINE',
    resolvedBy: resolvedBy === undefined ? null : actor(ctx, resolvedBy),
    viewerCanReply: true,
    comments: (args: ConnectionArgs) => {
      const comments = [...state.reviewComments.values()]
        .filter((c) => c.id === root.id || c.inReplyToId === root.id)
        .sort((a, b) => a.id - b.id);
      return connection(`thread:${root.id}`, comments, args, (c) => reviewComment(ctx, issue, c));
    },
  };
}

function reviewComment(ctx: GraphContext, issue: IssueState, c: ReviewCommentState): Obj {
  return {
    __typename: 'PullRequestReviewComment',
    ...commentFields(ctx, issue, c, 'PullRequestReviewComment'),
    url: `${ctx.shapes.web}/${issue.repo}/pull/${issue.number}#discussion_r${c.id}`,
    path: c.path,
    line: c.line,
    originalLine: c.line,
    outdated: false,
    state: 'SUBMITTED',
    replyTo: () => {
      const to = c.inReplyToId === undefined ? undefined : ctx.shapes.state.reviewComments.get(c.inReplyToId);
      return to ? reviewComment(ctx, issue, to) : null;
    },
  };
}

function review(ctx: GraphContext, issue: IssueState, r: ReviewState): Obj {
  return {
    __typename: 'PullRequestReview',
    ...commentFields(
      ctx,
      issue,
      {
        id: r.id,
        body: r.body,
        user: r.user,
        createdAt: r.submittedAt ?? '',
        updatedAt: r.submittedAt ?? '',
      },
      'PullRequestReview',
    ),
    url: `${ctx.shapes.web}/${issue.repo}/pull/${issue.number}#pullrequestreview-${r.id}`,
    state: r.state,
    submittedAt: r.submittedAt,
  };
}

function issueComment(ctx: GraphContext, issue: IssueState, c: CommentState): Obj {
  return {
    __typename: 'IssueComment',
    ...commentFields(ctx, issue, c, 'IssueComment'),
    url: `${ctx.shapes.web}/${issue.repo}/pull/${issue.number}#issuecomment-${c.id}`,
  };
}

/** Fields of GitHub's `Comment` interface (and ids) that all three kinds share. */
function commentFields(
  ctx: GraphContext,
  issue: IssueState,
  c: Pick<CommentState, 'id' | 'body' | 'user' | 'createdAt' | 'updatedAt'>,
  kind: string,
): Obj {
  return {
    id: nodeId(kind, c.id),
    databaseId: c.id,
    fullDatabaseId: String(c.id),
    body: c.body,
    bodyText: c.body,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    publishedAt: c.createdAt,
    lastEditedAt: null,
    includesCreatedEdit: false,
    isMinimized: false,
    minimizedReason: null,
    author: actor(ctx, c.user),
    authorAssociation: association(ctx.shapes, issue.repo, c.user),
  };
}

/** GitHub's GraphQL names an App's bot without the `[bot]` suffix its REST API adds. */
function actor(ctx: GraphContext, login: string): Obj {
  const bot = login.endsWith('[bot]');
  const name = bot ? login.slice(0, -'[bot]'.length) : login;
  return {
    __typename: bot ? 'Bot' : 'User',
    login: name,
    url: bot ? `${ctx.shapes.web}/apps/${name}` : `${ctx.shapes.web}/${name}`,
    resourcePath: bot ? `/apps/${name}` : `/${name}`,
    avatarUrl: () => `${ctx.shapes.web}/avatars/u/${ctx.shapes.state.userId(login)}`,
  };
}

/** `node(id:)` for the node types the fake serves (review threads); others are unknown ids. */
function nodeById(ctx: GraphContext, id: string): Obj | null {
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const match = /^0:PullRequestReviewThread(\d+)$/.exec(decoded);
  const root = match ? ctx.shapes.state.reviewComments.get(Number(match[1])) : undefined;
  const issue = root ? ctx.shapes.state.issue(root.repo, root.pullNumber) : undefined;
  const repo = root ? ctx.shapes.state.repo(root.repo) : undefined;
  if (!root || !issue || !repo || !ctx.canSee(repo) || root.inReplyToId !== undefined) {
    throw new GitHubGraphqlError('NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
  }
  return thread(ctx, issue, root);
}

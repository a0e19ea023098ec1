import type { FeedbackComment, ReviewFeedback, ReviewThreadFeedback } from '../types.js';

/**
 * All review feedback on a pull request from GitHub's GraphQL API — the only API that knows
 * whether a review thread is resolved. The first request fetches the first page (100) of review
 * threads (each with its first 100 comments), submitted reviews and conversation comments; further
 * pages of any of them follow by cursor, so nothing is capped at 100. About 10,300 nodes per
 * request, far below GitHub's 500,000.
 */

type Graphql = <T>(query: string, variables: Record<string, unknown>) => Promise<T>;

interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
interface Page<T> {
  pageInfo: PageInfo;
  nodes: (T | null)[] | null;
}
interface Author {
  __typename: string;
  login: string;
}
interface CommentNode {
  body: string;
  createdAt: string;
  url: string;
  author: Author | null;
}
interface ReviewCommentNode extends CommentNode {
  fullDatabaseId: string | null;
}
interface ThreadNode {
  id: string;
  isResolved: boolean;
  isOutdated: boolean;
  path: string;
  line: number | null;
  originalLine: number | null;
  comments: Page<ReviewCommentNode>;
}
interface ReviewNode extends CommentNode {
  state: string;
  submittedAt: string | null;
}
interface PullRequestPages {
  reviewThreads?: Page<ThreadNode>;
  reviews?: Page<ReviewNode>;
  comments?: Page<CommentNode>;
}

const PAGE = 'pageInfo { hasNextPage endCursor }';
const AUTHOR = 'author { __typename login }';
const COMMENT = `body createdAt url ${AUTHOR}`;
const THREAD = `id isResolved isOutdated path line originalLine comments(first: 100) { ${PAGE} nodes { fullDatabaseId ${COMMENT} } }`;
const CONNECTIONS = {
  reviewThreads: { args: '', nodes: THREAD },
  // Pending reviews belong to their author; dismissed ones no longer ask for anything.
  reviews: {
    args: ', states: [APPROVED, CHANGES_REQUESTED, COMMENTED]',
    nodes: `state submittedAt ${COMMENT}`,
  },
  comments: { args: '', nodes: COMMENT },
} as const;
type ConnectionName = keyof typeof CONNECTIONS;

const connectionField = (name: ConnectionName, after: boolean) =>
  `${name}(first: 100${after ? ', after: $after' : ''}${CONNECTIONS[name].args}) { ${PAGE} nodes { ${CONNECTIONS[name].nodes} } }`;

const pullRequestQuery = (name: string, fields: string, after: boolean) =>
  `query ${name}($owner: String!, $name: String!, $number: Int!${after ? ', $after: String!' : ''}) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { ${fields} } }
}`;

export const FIRST_PAGES_QUERY = pullRequestQuery(
  'ForgeReviewFeedback',
  (Object.keys(CONNECTIONS) as ConnectionName[]).map((n) => connectionField(n, false)).join('\n'),
  false,
);

const NEXT_PAGE_QUERIES = Object.fromEntries(
  (Object.keys(CONNECTIONS) as ConnectionName[]).map((n) => [
    n,
    pullRequestQuery(`ForgeReviewFeedback_${n}`, connectionField(n, true), true),
  ]),
) as Record<ConnectionName, string>;

const THREAD_COMMENTS_QUERY = `query ForgeReviewThreadComments($id: ID!, $after: String!) {
  node(id: $id) { ... on PullRequestReviewThread { comments(first: 100, after: $after) { ${PAGE} nodes { fullDatabaseId ${COMMENT} } } } }
}`;

export async function listReviewFeedback(
  graphql: Graphql,
  owner: string,
  name: string,
  number: number,
): Promise<ReviewFeedback> {
  const vars = { owner, name, number };
  const first = await graphql<{ repository: { pullRequest: PullRequestPages } }>(FIRST_PAGES_QUERY, vars);
  const pr = first.repository.pullRequest;
  const rest = async <T>(connection: ConnectionName, page: Page<T> | undefined): Promise<T[]> => {
    const all: T[] = [];
    let current = page;
    while (current) {
      for (const node of current.nodes ?? []) if (node) all.push(node);
      if (!current.pageInfo.hasNextPage || !current.pageInfo.endCursor) break;
      const next = await graphql<{ repository: { pullRequest: PullRequestPages } }>(
        NEXT_PAGE_QUERIES[connection],
        { ...vars, after: current.pageInfo.endCursor },
      );
      current = next.repository.pullRequest[connection] as Page<T> | undefined;
    }
    return all;
  };
  const threads = await rest('reviewThreads', pr.reviewThreads);
  const reviews = await rest('reviews', pr.reviews);
  const comments = await rest('comments', pr.comments);

  const open: ReviewThreadFeedback[] = [];
  for (const thread of threads) {
    if (thread.isResolved) continue;
    const nodes = await threadComments(graphql, thread);
    const root = nodes[0]?.fullDatabaseId;
    // Replies go to the thread's first comment (its REST id): a thread without one cannot be answered.
    if (!root) continue;
    const line = thread.line ?? thread.originalLine;
    open.push({
      threadId: root,
      path: thread.path,
      ...(line !== null ? { line } : {}),
      ...(thread.isOutdated ? { outdated: true } : {}),
      comments: nodes.map(comment),
    });
  }
  return {
    threads: open,
    reviews: reviews
      .filter((r) => r.body.trim() !== '')
      .map((r) => ({ ...comment(r), createdAt: r.submittedAt ?? r.createdAt, state: reviewState(r.state) })),
    comments: comments.map(comment),
  };
}

async function threadComments(graphql: Graphql, thread: ThreadNode): Promise<ReviewCommentNode[]> {
  const all: ReviewCommentNode[] = [];
  let page: Page<ReviewCommentNode> | undefined = thread.comments;
  while (page) {
    for (const node of page.nodes ?? []) if (node) all.push(node);
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    const next: { node: { comments?: Page<ReviewCommentNode> } | null } = await graphql(
      THREAD_COMMENTS_QUERY,
      {
        id: thread.id,
        after: page.pageInfo.endCursor,
      },
    );
    page = next.node?.comments;
  }
  return all;
}

function comment(node: CommentNode): FeedbackComment {
  return { author: login(node.author), body: node.body, createdAt: node.createdAt, url: node.url };
}

/** GraphQL names an App's bot without the `[bot]` suffix REST (and webhooks) use: add it back. */
function login(author: Author | null): string {
  if (!author) return 'ghost';
  return author.__typename === 'Bot' && !author.login.endsWith('[bot]')
    ? `${author.login}[bot]`
    : author.login;
}

function reviewState(state: string): 'approved' | 'changes_requested' | 'commented' {
  return state === 'APPROVED'
    ? 'approved'
    : state === 'CHANGES_REQUESTED'
      ? 'changes_requested'
      : 'commented';
}

/**
 * Relay-style connections as GitHub serves them: `first`/`last` with `after`/`before` cursors,
 * `nodes`, `edges { cursor node }`, `pageInfo` and `totalCount`. Cursors are opaque to clients;
 * here they name the connection they belong to, so a cursor from another list is refused.
 */

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** A GraphQL error GitHub reports with a `type` (e.g. NOT_FOUND); `violation` marks a client bug. */
export class GitHubGraphqlError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly violation = false,
  ) {
    super(message);
  }
}

export function cursorFor(key: string, index: number): string {
  return Buffer.from(`cursor:v2:${key}:${index}`).toString('base64');
}

function decode(cursor: string, key: string, which: 'after' | 'before'): number {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  const prefix = `cursor:v2:${key}:`;
  const index = text.startsWith(prefix) ? Number(text.slice(prefix.length)) : Number.NaN;
  if (!Number.isInteger(index) || index < 0) {
    throw new GitHubGraphqlError(
      'INVALID_CURSOR_ARGUMENTS',
      `\`${which}\` cursor \`${cursor}\` does not appear to be a valid cursor for this connection.`,
      true,
    );
  }
  return index;
}

export function connection<T>(
  key: string,
  items: readonly T[],
  args: ConnectionArgs,
  node: (item: T) => object,
) {
  let start = 0;
  let end = items.length;
  if (args.after != null) start = Math.min(items.length, decode(args.after, key, 'after') + 1);
  if (args.before != null) end = Math.min(end, decode(args.before, key, 'before'));
  if (end < start) end = start;
  const windowStart = start;
  const windowEnd = end;
  if (args.first != null) end = Math.min(end, start + args.first);
  if (args.last != null) start = Math.max(start, end - args.last);
  const indices = Array.from({ length: end - start }, (_, i) => start + i);
  const nodes = indices.map((i) => node(items[i] as T));
  return {
    totalCount: items.length,
    nodes,
    edges: indices.map((i, k) => ({ cursor: cursorFor(key, i), node: nodes[k] })),
    pageInfo: {
      hasNextPage: end < windowEnd,
      hasPreviousPage: start > windowStart || start > 0,
      startCursor: indices.length ? cursorFor(key, start) : null,
      endCursor: indices.length ? cursorFor(key, end - 1) : null,
    },
  };
}

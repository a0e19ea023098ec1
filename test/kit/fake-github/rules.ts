/**
 * Request rules GitHub enforces that the OpenAPI schema only states in prose. Breaking one is a
 * client bug (GitHub answers 422), so the fake reports it as a violation.
 */

type Rule = (body: Record<string, unknown>, query: URLSearchParams) => string[];

const checkRunRule: Rule = (b) => {
  const problems: string[] = [];
  if ((b.status === 'completed' || b.completed_at !== undefined) && b.conclusion === undefined) {
    problems.push('body.conclusion is required when status is "completed" or completed_at is given');
  }
  if (b.conclusion === 'stale') problems.push('body.conclusion "stale" can only be set by GitHub');
  return problems;
};

const RULES: Record<string, Rule> = {
  'checks/create': checkRunRule,
  'checks/update': checkRunRule,
  'pulls/create': (b) =>
    b.title === undefined && b.issue === undefined
      ? ['body.title is required unless body.issue is given']
      : [],
  'pulls/list': (_b, q) => {
    const head = q.get('head');
    // Without `user:` GitHub does not filter by branch the way callers expect.
    return head !== null && !/^[^:]+:.+$/.test(head)
      ? [`query parameter head must be "user:ref-name", got ${JSON.stringify(head)}`]
      : [];
  },
  'pulls/create-review-comment': (b) =>
    b.in_reply_to !== undefined ||
    (b.commit_id !== undefined &&
      b.path !== undefined &&
      (b.line !== undefined || b.position !== undefined || b.subject_type === 'file'))
      ? []
      : ['body needs in_reply_to, or commit_id + path + line (or position)'],
};

export function checkRules(operationId: string, body: unknown, query: URLSearchParams): string[] {
  const rule = RULES[operationId];
  return rule ? rule((body && typeof body === 'object' ? body : {}) as Record<string, unknown>, query) : [];
}

/**
 * Schema errors GitHub does not actually raise. `pulls/create-review-comment` lists commit_id and
 * path as required, but its docs say that with `in_reply_to` "all parameters other than body are
 * ignored" — the usual way for an app to reply in a review thread.
 */
export function waived(operationId: string, body: unknown, problem: string): boolean {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return (
    operationId === 'pulls/create-review-comment' &&
    b.in_reply_to !== undefined &&
    /^body\.(commit_id|path) is required$/.test(problem)
  );
}

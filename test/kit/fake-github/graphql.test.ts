import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ProbotOctokit } from 'probot';
import { FakeGitHub } from './index.js';

/** The fake's GraphQL endpoint: strict validation against GitHub's schema, then execution. */

type Octokit = InstanceType<typeof ProbotOctokit>;

const REPO = 'acme/widgets';
const quiet = {
  throttle: { enabled: false },
  retry: { enabled: false },
  log: { debug() {}, info() {}, warn() {}, error() {} },
};

let fake: FakeGitHub;
let inst: Octokit;
let other: Octokit;
let pr: number;
let threads: number[];

interface GraphqlFailure {
  status?: number;
  errors?: { type?: string; message: string; path?: (string | number)[] }[];
  data?: unknown;
}

/** Runs a query that must fail; returns GitHub's errors and the violations the fake recorded. */
async function failing(query: string, variables: Record<string, unknown> = {}, client = inst) {
  let caught: GraphqlFailure | undefined;
  try {
    await client.graphql(query, variables);
  } catch (error) {
    caught = error as GraphqlFailure;
  }
  assert.ok(caught, 'the query must fail');
  return { error: caught, violations: fake.takeViolations() };
}

const THREADS = `query Threads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved path line comments(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { fullDatabaseId body author { __typename login } } } }
      }
    }
  }
}`;

interface ThreadPage {
  repository: {
    pullRequest: {
      reviewThreads: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes: {
          id: string;
          isResolved: boolean;
          path: string;
          line: number | null;
          comments: {
            totalCount: number;
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
            nodes: { fullDatabaseId: string; body: string; author: { __typename: string; login: string } }[];
          };
        }[];
      };
    };
  };
}

before(async () => {
  fake = await FakeGitHub.start();
  fake.addRepo({ owner: 'acme', name: 'widgets', installationId: 77 });
  fake.addRepo({ owner: 'other', name: 'thing', installationId: 99 });
  inst = new ProbotOctokit({
    ...quiet,
    baseUrl: fake.apiUrl,
    auth: { appId: fake.appId, privateKey: fake.privateKeyPem, installationId: 77 },
  });
  other = new ProbotOctokit({
    ...quiet,
    baseUrl: fake.apiUrl,
    auth: { appId: fake.appId, privateKey: fake.privateKeyPem, installationId: 99 },
  });
  pr = fake.addPull(REPO, { title: 'PR', user: 'alice', head: 'feature' }).number;
  threads = [];
  for (let i = 0; i < 130; i++) {
    const root = fake.addReviewComment(REPO, pr, {
      body: `thread ${i}`,
      user: 'maya',
      path: `f${i}.js`,
      line: i + 1,
    });
    threads.push(root.id);
  }
  for (let i = 0; i < 4; i++)
    fake.addReviewComment(REPO, pr, { body: `reply ${i}`, user: 'forge-test[bot]', inReplyTo: threads[0] });
  fake.resolveThread(REPO, threads[1]!);
});

after(() => fake.close());
afterEach(() => {
  const seen = fake.takeViolations();
  if (seen.length) {
    fake.violations.push(...seen);
    try {
      fake.assertNoViolations();
    } finally {
      fake.takeViolations();
    }
  }
});

describe('GraphQL: execution against the fake state', () => {
  it('pages through more than 100 review threads with first/after, with resolution state', async () => {
    const vars = { owner: 'acme', name: 'widgets', number: pr };
    const first = await inst.graphql<ThreadPage>(THREADS, vars);
    const page1 = first.repository.pullRequest.reviewThreads;
    assert.equal(page1.totalCount, 130);
    assert.equal(page1.nodes.length, 100);
    assert.equal(page1.pageInfo.hasNextPage, true);
    assert.deepEqual(
      page1.nodes.slice(0, 3).map((t) => [t.isResolved, t.path, t.line]),
      [
        [false, 'f0.js', 1],
        [true, 'f1.js', 2],
        [false, 'f2.js', 3],
      ],
    );
    const second = await inst.graphql<ThreadPage>(THREADS, { ...vars, after: page1.pageInfo.endCursor });
    const page2 = second.repository.pullRequest.reviewThreads;
    assert.equal(page2.nodes.length, 30);
    assert.equal(page2.pageInfo.hasNextPage, false);
    assert.equal(page2.nodes[0]!.path, 'f100.js');
    const ids = [...page1.nodes, ...page2.nodes].map((t) => t.comments.nodes[0]!.fullDatabaseId);
    assert.deepEqual(ids, threads.map(String), "each thread opens with its first comment's REST id");
  });

  it('pages through a thread’s comments by node id; a bot is named without [bot]', async () => {
    const vars = { owner: 'acme', name: 'widgets', number: pr };
    const page = await inst.graphql<ThreadPage>(THREADS, vars);
    const busy = page.repository.pullRequest.reviewThreads.nodes[0]!;
    assert.equal(busy.comments.totalCount, 5);
    assert.equal(busy.comments.pageInfo.hasNextPage, true);
    assert.deepEqual(busy.comments.nodes[1]!.author, { __typename: 'Bot', login: 'forge-test' });
    const more = await inst.graphql<{
      node: { comments: { pageInfo: { hasNextPage: boolean }; nodes: { body: string }[] } };
    }>(
      `query More($id: ID!, $after: String) {
        node(id: $id) { ... on PullRequestReviewThread { comments(first: 100, after: $after) { pageInfo { hasNextPage } nodes { body } } } }
      }`,
      { id: busy.id, after: busy.comments.pageInfo.endCursor },
    );
    assert.deepEqual(
      more.node.comments.nodes.map((c) => c.body),
      ['reply 1', 'reply 2', 'reply 3'],
    );
    assert.equal(more.node.comments.pageInfo.hasNextPage, false);
  });

  it('serves submitted reviews (never pending ones) and conversation comments', async () => {
    const n = fake.addPull(REPO, { title: 'Reviews', user: 'alice', head: 'reviews' }).number;
    fake.addReview(REPO, n, { body: 'Looks good', user: 'maya', state: 'APPROVED' });
    fake.addReview(REPO, n, { body: 'Draft thoughts', user: 'maya', state: 'PENDING' });
    fake.addReview(REPO, n, { body: 'Please split this', user: 'bob', state: 'CHANGES_REQUESTED' });
    fake.addComment(REPO, n, { body: 'Conversation', user: 'alice' });
    const data = await inst.graphql<{
      repository: {
        pullRequest: {
          reviews: { nodes: { body: string; state: string; author: { login: string } }[] };
          comments: { nodes: { body: string; url: string }[] };
        };
      };
    }>(
      `query($n: Int!) { repository(owner: "acme", name: "widgets") { pullRequest(number: $n) {
        reviews(first: 10, states: [APPROVED, CHANGES_REQUESTED, COMMENTED]) { nodes { body state author { login } } }
        comments(first: 10) { nodes { body url } }
      } } }`,
      { n },
    );
    assert.deepEqual(
      data.repository.pullRequest.reviews.nodes.map((r) => [r.body, r.state, r.author.login]),
      [
        ['Looks good', 'APPROVED', 'maya'],
        ['Please split this', 'CHANGES_REQUESTED', 'bob'],
      ],
    );
    assert.equal(data.repository.pullRequest.comments.nodes[0]!.body, 'Conversation');
    assert.match(data.repository.pullRequest.comments.nodes[0]!.url, /#issuecomment-\d+$/);
  });

  it('a missing pull request or a repository outside the token is NOT_FOUND data, not a violation', async () => {
    const missing = await failing(
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: 9999) { id } } }',
    );
    assert.equal(missing.error.errors?.[0]?.type, 'NOT_FOUND');
    assert.deepEqual(missing.error.data, { repository: { pullRequest: null } });
    assert.deepEqual(missing.violations, []);
    const hidden = await failing('query { repository(owner: "acme", name: "widgets") { id } }', {}, other);
    assert.equal(hidden.error.errors?.[0]?.type, 'NOT_FOUND');
    assert.deepEqual(hidden.violations, []);
  });
});

describe('GraphQL: what GitHub would reject is an error and a violation', () => {
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    [
      'an unknown field',
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { reviewThreads(first: 1) { nodes { resolved } } } } }',
      {},
      /Cannot query field "resolved" on type "PullRequestReviewThread"/,
    ],
    [
      'a wrong argument type',
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: "one") { id } } }',
      {},
      /Int cannot represent non-integer value: "one"/,
    ],
    [
      'a missing required variable',
      'query($n: Int!) { repository(owner: "acme", name: "widgets") { pullRequest(number: $n) { id } } }',
      {},
      /Variable "\$n" of required type "Int!" was not provided/,
    ],
    [
      'a variable of the wrong type',
      'query($n: Int!) { repository(owner: "acme", name: "widgets") { pullRequest(number: $n) { id } } }',
      { n: 'seven' },
      /Variable "\$n" got invalid value "seven"/,
    ],
    [
      'an undeclared variable',
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: $n) { id } } }',
      {},
      /Variable "\$n" is not defined/,
    ],
    [
      'a deprecated field',
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { reviewThreads(first: 1) { nodes { comments(first: 1) { nodes { databaseId } } } } } } }',
      {},
      /PullRequestReviewComment\.databaseId is deprecated/,
    ],
    [
      'a connection without first or last',
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { reviewThreads { totalCount } } } }',
      {},
      /You must provide a `first` or `last` value to properly paginate the `reviewThreads` connection/,
    ],
    [
      'a page over 100',
      'query($f: Int) { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { comments(first: $f) { totalCount } } } }',
      { f: 101 },
      /Requesting 101 records on the `comments` connection exceeds the `first` limit of 100 records/,
    ],
    [
      'more than 500,000 nodes',
      'query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { reviewThreads(first: 100) { nodes { comments(first: 100) { nodes { reactions(first: 100) { totalCount } } } } } } } }',
      {},
      /exceeds the maximum limit of 500,000/,
    ],
    ['a syntax error', 'query { repository(owner: "acme" { id } }', {}, /Syntax Error/],
  ];
  for (const [what, query, variables, pattern] of cases) {
    it(what, async () => {
      const { error, violations } = await failing(query, variables);
      assert.match(error.errors?.map((e) => e.message).join('\n') ?? '', pattern);
      assert.equal(violations.length, 1, JSON.stringify(violations));
      assert.match(violations[0]!.reason, pattern);
      assert.equal(violations[0]!.path, '/api/graphql');
    });
  }

  it('a field the fake does not implement is a violation, never a made-up value', async () => {
    const { error, violations } = await failing(
      'query { repository(owner: "acme", name: "widgets") { stargazerCount } }',
    );
    assert.match(error.errors?.[0]?.message ?? '', /Repository\.stargazerCount is not implemented/);
    assert.equal(violations.length, 1);
  });

  it('a cursor from another connection, and a mutation, are violations', async () => {
    const vars = { owner: 'acme', name: 'widgets', number: pr };
    const page = await inst.graphql<ThreadPage>(THREADS, vars);
    const cursor = page.repository.pullRequest.reviewThreads.nodes[0]!.comments.pageInfo.endCursor;
    const bad = await failing(THREADS, { ...vars, after: cursor });
    assert.match(bad.error.errors?.[0]?.message ?? '', /does not appear to be a valid cursor/);
    assert.equal(bad.violations.length, 1);
    const mutation = await failing(
      'mutation($id: ID!) { resolveReviewThread(input: { threadId: $id }) { thread { isResolved } } }',
      { id: 'x' },
    );
    assert.match(mutation.violations[0]?.reason ?? '', /serves queries only/);
  });

  it('refuses an app JWT and anonymous callers with 401', async () => {
    const app = new ProbotOctokit({
      ...quiet,
      baseUrl: fake.apiUrl,
      auth: { appId: fake.appId, privateKey: fake.privateKeyPem },
    });
    const { token } = (await app.auth({ type: 'app' })) as { token: string };
    const query = JSON.stringify({ query: '{ viewer { login } }' });
    for (const headers of [{ authorization: `bearer ${token}` }, {} as Record<string, string>]) {
      const res = await fetch(`${fake.url}/api/graphql`, { method: 'POST', headers, body: query });
      assert.equal(res.status, 401);
      assert.equal(fake.takeViolations().length, 1);
    }
  });
});

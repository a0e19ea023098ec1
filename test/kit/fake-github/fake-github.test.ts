import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Probot, ProbotOctokit } from 'probot';
import { FakeGitHub, type IssuedToken, waitFor } from './index.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

const REPO = 'acme/widgets';
const INSTALLATION = 77;
// Retries and throttling would only slow the error-path tests down.
const quiet = {
  throttle: { enabled: false },
  retry: { enabled: false },
  log: { debug() {}, info() {}, warn() {}, error() {} },
};

let fake: FakeGitHub;
let app: Octokit;
let inst: Octokit;
const announced: IssuedToken[] = [];
const branches = new Map<string, string>([
  ['main', 'a'.repeat(40)],
  ['forge/task-1', 'b'.repeat(40)],
]);

function status(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

async function rejects(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(
    p,
    (e) => status(e) === code || assert.fail(`expected ${code}, got ${status(e)}: ${(e as Error).message}`),
  );
}

before(async () => {
  fake = await FakeGitHub.start({
    onTokenIssued: (t) => announced.push(t),
    branchExists: (_repo, b) => branches.has(b),
    headSha: (_repo, b) => branches.get(b),
  });
  fake.addRepo({ owner: 'acme', name: 'widgets', installationId: INSTALLATION });
  fake.addRepo({ owner: 'other', name: 'thing', installationId: 99 });
  app = new ProbotOctokit({
    ...quiet,
    baseUrl: fake.apiUrl,
    auth: { appId: fake.appId, privateKey: fake.privateKeyPem },
  });
  inst = new ProbotOctokit({
    ...quiet,
    baseUrl: fake.apiUrl,
    auth: { appId: fake.appId, privateKey: fake.privateKeyPem, installationId: INSTALLATION },
  });
});

after(() => fake.close());
afterEach(() => {
  // Clear even on failure so one test's violations are not blamed on the next.
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

describe('app authentication', () => {
  it('serves /app and installation lookups to an app JWT', async () => {
    const { data } = await app.rest.apps.getAuthenticated();
    assert.equal(data?.id, fake.appId);
    const { data: installation } = await app.rest.apps.getRepoInstallation({
      owner: 'acme',
      repo: 'widgets',
    });
    assert.equal(installation.id, INSTALLATION);
  });

  it('mints a fresh installation token per request and announces it', async () => {
    const a = await app.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION });
    const b = await app.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION });
    assert.equal(a.status, 201);
    assert.match(a.data.token, /^ghs_\w{36}$/);
    assert.notEqual(a.data.token, b.data.token);
    const issued = fake.issuedTokens().map((t) => t.token);
    assert.ok(issued.includes(a.data.token) && issued.includes(b.data.token));
    assert.ok(announced.some((t) => t.token === b.data.token));
    assert.equal(fake.tokenAllows(a.data.token, REPO), true);
    assert.equal(fake.tokenAllows(a.data.token, 'other/thing'), false);
  });

  it('works through Probot pointed at the GHES prefix', async () => {
    const probot = new Probot({
      appId: fake.appId,
      privateKey: fake.privateKeyPem,
      baseUrl: fake.apiUrl,
      Octokit: ProbotOctokit.defaults(quiet),
    });
    const octokit = await probot.auth(INSTALLATION);
    const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'widgets' });
    assert.equal(data.full_name, REPO);
    assert.equal(data.default_branch, 'main');
    // Also served without the prefix.
    const root = await fetch(`${fake.url}/app`, {
      headers: { authorization: `bearer ${((await app.auth({ type: 'app' })) as { token: string }).token}` },
    });
    assert.equal(root.status, 200);
    assert.ok(root.headers.get('x-ratelimit-remaining'));
  });
});

describe('wrong or missing auth', () => {
  it('rejects an app JWT on an installation endpoint and a token on an app endpoint', async () => {
    // Octokit's auth-app picks the right credential per route, so send the wrong ones by hand.
    const jwt = ((await app.auth({ type: 'app' })) as { token: string }).token;
    const token = ((await inst.auth({ type: 'installation' })) as { token: string }).token;
    const get = (path: string, authorization?: string) =>
      fetch(`${fake.apiUrl}${path}`, { headers: authorization ? { authorization } : {} });
    assert.equal((await get('/repos/acme/widgets', `Bearer ${jwt}`)).status, 401);
    assert.equal((await get('/app', `token ${token}`)).status, 401);
    assert.equal((await get('/repos/acme/widgets', 'token ghs_notissued')).status, 401);
    assert.equal((await get('/repos/acme/widgets')).status, 401);
    assert.equal(
      (await get('/repos/acme/widgets', `Bearer ${token}`)).status,
      200,
      'Bearer <installation token> is accepted too',
    );
    const reasons = fake.takeViolations().map((v) => v.reason);
    assert.equal(reasons.length, 4, reasons.join('\n'));
    assert.match(reasons[0] ?? '', /requires an installation token, got an app JWT/);
    assert.match(reasons[1] ?? '', /requires an app JWT/);
    assert.match(reasons[2] ?? '', /Bad credentials/);
    assert.match(reasons[3] ?? '', /requires authentication/);
  });

  it('rejects a JWT signed by another key or for another app', async () => {
    const { createSign, generateKeyPairSync } = await import('node:crypto');
    const sign = (iss: number, key: string) => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const body = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss, iat: now - 30, exp: now + 540 })}`;
      return `${body}.${createSign('RSA-SHA256').update(body).sign(key, 'base64url')}`;
    };
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const get = (jwt: string) => fetch(`${fake.apiUrl}/app`, { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal((await get(sign(fake.appId, fake.privateKeyPem))).status, 200);
    assert.equal((await get(sign(fake.appId, other))).status, 401);
    assert.equal((await get(sign(fake.appId + 1, fake.privateKeyPem))).status, 401);
    const reasons = fake.takeViolations().map((v) => v.reason);
    assert.match(reasons[0] ?? '', /signature does not verify/);
    assert.match(reasons[1] ?? '', /iss \d+ is not the app id/);
  });

  it("refuses a repository outside the token's installation", async () => {
    await rejects(inst.rest.repos.get({ owner: 'other', repo: 'thing' }), 404);
    assert.match(fake.takeViolations()[0]?.reason ?? '', /cannot access other\/thing/);
  });
});

describe('strict request checking', () => {
  it('flags undocumented paths and documented-but-unimplemented operations', async () => {
    await rejects(
      inst.request('GET /repos/{owner}/{repo}/definitely-not-an-endpoint', {
        owner: 'acme',
        repo: 'widgets',
      }),
      404,
    );
    await rejects(inst.rest.repos.listLanguages({ owner: 'acme', repo: 'widgets' }), 404);
    const [undocumented, unimplemented] = fake.takeViolations();
    assert.match(
      undocumented?.reason ?? '',
      /^undocumented: GET \/repos\/acme\/widgets\/definitely-not-an-endpoint/,
    );
    assert.equal(
      unimplemented?.reason,
      'unimplemented: GET /repos/{owner}/{repo}/languages (repos/list-languages)',
    );
  });

  it('answers 422 for a missing required field, a bad enum, an unknown field or query parameter', async () => {
    const { data: comment } = await inst.rest.issues.createComment({
      owner: 'acme',
      repo: 'widgets',
      issue_number: fake.addIssue(REPO, { title: 't', user: 'alice' }).number,
      body: 'x',
    });
    await rejects(
      inst.request('POST /repos/{owner}/{repo}/check-runs', {
        owner: 'acme',
        repo: 'widgets',
        name: 'Forge',
      } as never),
      422,
    );
    await rejects(
      inst.request('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
        owner: 'acme',
        repo: 'widgets',
        comment_id: comment.id,
        content: 'thumbsup',
      } as never),
      422,
    );
    await rejects(
      inst.request('POST /repos/{owner}/{repo}/pulls', {
        owner: 'acme',
        repo: 'widgets',
        head: 'forge/task-1',
        base: 'main',
        title: 't',
        draf: true,
      }),
      422,
    );
    await rejects(
      inst.request('GET /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'widgets', states: 'open' }),
      422,
    );
    await rejects(
      inst.rest.checks.create({
        owner: 'acme',
        repo: 'widgets',
        name: 'Forge',
        head_sha: 'a'.repeat(40),
        status: 'completed',
      }),
      422,
    );
    await rejects(
      inst.rest.checks.create({
        owner: 'acme',
        repo: 'widgets',
        name: 'Forge',
        head_sha: 'a'.repeat(40),
        output: { title: 't', summary: 'x'.repeat(65_536) },
      }),
      422,
    );
    const reasons = fake.takeViolations().map((v) => v.reason);
    assert.equal(reasons.length, 6, reasons.join('\n'));
    assert.match(reasons[0] ?? '', /body\.head_sha is required/);
    assert.match(reasons[1] ?? '', /body\.content must be one of .*"eyes"/);
    assert.match(reasons[2] ?? '', /body\.draf is not a documented field/);
    assert.match(reasons[3] ?? '', /unknown query parameter states/);
    assert.match(reasons[4] ?? '', /conclusion is required/);
    assert.match(reasons[5] ?? '', /body\.output\.summary is 65536 characters/);
    assert.equal(fake.checkRuns(REPO).length, 0);
  });

  it('follows the spec where it says installation tokens cannot call an endpoint', async () => {
    const pr = fake.addPull(REPO, { title: 'p', user: 'alice', head: 'feature' });
    const { id } = fake.addReviewComment(REPO, pr.number, { body: 'fix this', user: 'alice' });
    await rejects(
      inst.rest.pulls.createReplyForReviewComment({
        owner: 'acme',
        repo: 'widgets',
        pull_number: pr.number,
        comment_id: id,
        body: 'on it',
      }),
      403,
    );
    assert.match(fake.takeViolations()[0]?.reason ?? '', /enabledForGitHubApps: false/);
    // The app-friendly way to reply in a review thread. Octokit's types follow the schema and demand
    // commit_id/path, which GitHub ignores next to in_reply_to; the fake waives them (rules.ts).
    const { data } = await inst.rest.pulls.createReviewComment({
      owner: 'acme',
      repo: 'widgets',
      pull_number: pr.number,
      in_reply_to: id,
      body: 'on it',
    } as never);
    assert.equal(data.in_reply_to_id, id);
    await inst.rest.reactions.createForPullRequestReviewComment({
      owner: 'acme',
      repo: 'widgets',
      comment_id: id,
      content: 'eyes',
    });
    assert.deepEqual(
      fake.reactions(REPO, id).map((r) => r.content),
      ['eyes'],
    );
    assert.equal(fake.reviewComments(REPO, pr.number).length, 2);
  });
});

describe('repository, issue and comment handlers', () => {
  it('reports collaborator permission with role_name, and 404 for unknown users', async () => {
    fake.setPermission(REPO, 'mia', 'maintain');
    const { data } = await inst.rest.repos.getCollaboratorPermissionLevel({
      owner: 'acme',
      repo: 'widgets',
      username: 'mia',
    });
    assert.deepEqual([data.permission, data.role_name, data.user?.login], ['write', 'maintain', 'mia']);
    await rejects(
      inst.rest.repos.getCollaboratorPermissionLevel({
        owner: 'acme',
        repo: 'widgets',
        username: 'stranger',
      }),
      404,
    );
  });

  it('creates, edits and pages through comments with a Link header', async () => {
    const { number } = fake.addIssue(REPO, { title: 'Add dark mode', body: 'please', user: 'alice' });
    const { data: issue } = await inst.rest.issues.get({
      owner: 'acme',
      repo: 'widgets',
      issue_number: number,
    });
    assert.equal(issue.title, 'Add dark mode');
    assert.equal(issue.pull_request, undefined);
    for (let i = 0; i < 5; i++) fake.addComment(REPO, number, { body: `c${i}`, user: 'bob' });
    const { data: mine } = await inst.rest.issues.createComment({
      owner: 'acme',
      repo: 'widgets',
      issue_number: number,
      body: 'working',
    });
    assert.equal(mine.user?.login, 'forge-test[bot]');
    await inst.rest.issues.updateComment({
      owner: 'acme',
      repo: 'widgets',
      comment_id: mine.id,
      body: 'done',
    });
    const first = await inst.rest.issues.listComments({
      owner: 'acme',
      repo: 'widgets',
      issue_number: number,
      per_page: 2,
    });
    assert.match(first.headers.link ?? '', /page=2.*rel="next".*page=3.*rel="last"/);
    const all = await inst.paginate(inst.rest.issues.listComments, {
      owner: 'acme',
      repo: 'widgets',
      issue_number: number,
      per_page: 2,
    });
    assert.deepEqual(
      all.map((c) => c.body),
      ['c0', 'c1', 'c2', 'c3', 'c4', 'done'],
    );
    assert.equal(fake.comments(REPO, number).at(-1)?.body, 'done');
    const { data: fetched } = await inst.rest.issues.getComment({
      owner: 'acme',
      repo: 'widgets',
      comment_id: mine.id,
    });
    assert.equal(fetched.body, 'done');
  });

  it('answers 201 for a new reaction and 200 for the same one again', async () => {
    const { number } = fake.addIssue(REPO, { title: 't', user: 'alice' });
    const { id } = fake.addComment(REPO, number, { body: '/forge do it', user: 'alice' });
    const first = await inst.rest.reactions.createForIssueComment({
      owner: 'acme',
      repo: 'widgets',
      comment_id: id,
      content: 'eyes',
    });
    const again = await inst.rest.reactions.createForIssueComment({
      owner: 'acme',
      repo: 'widgets',
      comment_id: id,
      content: 'eyes',
    });
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal(first.data.id, again.data.id);
    assert.equal(fake.reactions(REPO, id).length, 1);
  });

  it('resolves branches and refs through the hooks', async () => {
    const { data } = await inst.rest.repos.getBranch({
      owner: 'acme',
      repo: 'widgets',
      branch: 'forge/task-1',
    });
    assert.equal(data.commit.sha, 'b'.repeat(40));
    const { data: ref } = await inst.rest.git.getRef({
      owner: 'acme',
      repo: 'widgets',
      ref: 'heads/forge/task-1',
    });
    assert.equal(ref.object.sha, 'b'.repeat(40));
    await rejects(inst.rest.repos.getBranch({ owner: 'acme', repo: 'widgets', branch: 'nope' }), 404);
  });
});

describe('pull requests and checks', () => {
  it('opens, finds, updates a PR; a duplicate or unknown head is 422 without a violation', async () => {
    const { number: issueNumber } = fake.addIssue(REPO, { title: 'an issue', user: 'alice' });
    const { data: pr } = await inst.rest.pulls.create({
      owner: 'acme',
      repo: 'widgets',
      head: 'forge/task-1',
      base: 'main',
      title: 'Forge: task 1',
      body: 'b',
      draft: true,
    });
    assert.equal(pr.number, issueNumber + 1, 'issues and PRs share one number sequence');
    assert.deepEqual(
      [pr.head.ref, pr.head.sha, pr.base.ref, pr.draft, pr.state, pr.merged],
      ['forge/task-1', 'b'.repeat(40), 'main', true, 'open', false],
    );
    assert.equal(pr.head.repo?.full_name, REPO);
    await rejects(
      inst.rest.pulls.create({
        owner: 'acme',
        repo: 'widgets',
        head: 'forge/task-1',
        base: 'main',
        title: 'again',
      }),
      422,
    );
    await rejects(
      inst.rest.pulls.create({
        owner: 'acme',
        repo: 'widgets',
        head: 'forge/missing',
        base: 'main',
        title: 'x',
      }),
      422,
    );
    const { data: open } = await inst.rest.pulls.list({
      owner: 'acme',
      repo: 'widgets',
      head: 'acme:forge/task-1',
      state: 'open',
    });
    assert.deepEqual(
      open.map((p) => p.number),
      [pr.number],
    );
    await inst.rest.pulls.update({
      owner: 'acme',
      repo: 'widgets',
      pull_number: pr.number,
      title: 'Forge: renamed',
    });
    const { data: asIssue } = await inst.rest.issues.get({
      owner: 'acme',
      repo: 'widgets',
      issue_number: pr.number,
    });
    assert.ok(asIssue.pull_request);
    assert.equal(asIssue.title, 'Forge: renamed');
    await inst.rest.issues.createComment({
      owner: 'acme',
      repo: 'widgets',
      issue_number: pr.number,
      body: 'on the PR',
    });
    assert.equal(fake.comments(REPO, pr.number).length, 1);
    assert.equal(fake.pulls(REPO).find((p) => p.number === pr.number)?.title, 'Forge: renamed');
  });

  it('shows a fork PR as such', async () => {
    const { number } = fake.addPull(REPO, {
      title: 'from a fork',
      user: 'mallory',
      head: 'patch-1',
      headRepo: 'mallory/widgets',
      headSha: 'c'.repeat(40),
    });
    const { data } = await inst.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: number });
    assert.deepEqual(
      [data.head.repo?.full_name, data.head.repo?.fork, data.base.repo.full_name, data.head.sha],
      ['mallory/widgets', true, REPO, 'c'.repeat(40)],
    );
  });

  it('creates, completes and lists check runs', async () => {
    const sha = 'b'.repeat(40);
    const { data: run } = await inst.rest.checks.create({
      owner: 'acme',
      repo: 'widgets',
      name: 'Forge',
      head_sha: sha,
      status: 'in_progress',
      output: { title: 'Working', summary: '…' },
    });
    assert.equal(run.status, 'in_progress');
    const { data: done } = await inst.rest.checks.update({
      owner: 'acme',
      repo: 'widgets',
      check_run_id: run.id,
      conclusion: 'success',
      output: { title: 'Done', summary: 'ok' },
    });
    assert.deepEqual([done.status, done.conclusion, done.output.title], ['completed', 'success', 'Done']);
    const { data: list } = await inst.rest.checks.listForRef({
      owner: 'acme',
      repo: 'widgets',
      ref: 'forge/task-1',
    });
    assert.deepEqual(
      list.check_runs.map((r) => r.id),
      [run.id],
    );
    assert.equal(fake.checkRuns(REPO)[0]?.history.length, 2);
  });

  it('records calls and writes with templates and operation ids', async () => {
    const write = fake.writes().find((c) => c.operationId === 'checks/update');
    assert.equal(write?.template, '/repos/{owner}/{repo}/check-runs/{check_run_id}');
    assert.equal((write?.body as { conclusion?: string } | undefined)?.conclusion, 'success');
    assert.ok(fake.calls.every((c) => c.status > 0));
  });
});

describe('waitFor', () => {
  it('returns the first truthy value and explains a timeout', async () => {
    let n = 0;
    assert.equal(await waitFor(() => ++n >= 3 && n, 1000, { intervalMs: 1 }), 3);
    await assert.rejects(
      waitFor(() => false, 30, { what: 'the moon' }),
      /timed out after 30 ms waiting for the moon/,
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanGit } from './clean-git.js';
import { FakeGitLab, gitServerHooks } from './fake-gitlab/index.js';
import { type GitServer, startGitServer } from './git-server.js';

/** The fake GitLab's own strictness, over raw HTTP: what it accepts, what it refuses and records. */
describe('fake GitLab', () => {
  let gitlab: FakeGitLab;
  let token: string;
  const branches: Record<string, string> = { main: 'a'.repeat(40), feature: 'b'.repeat(40) };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${gitlab.url}/api/v4${path}`, {
      ...init,
      headers: { 'private-token': token, 'content-type': 'application/json', ...init.headers },
    });
  const project = encodeURIComponent('acme/sub/widgets');

  before(async () => {
    gitlab = await FakeGitLab.start({
      branchSha: (_p, b) => branches[b],
      branchesContaining: (_p, sha) => Object.keys(branches).filter((b) => branches[b] === sha),
      commitExists: (_p, sha) => Object.values(branches).includes(sha),
      fileAt: (_p, ref, file) =>
        ref === 'main' && file === '.gitlab/forge.yml' ? 'agent: command\n' : undefined,
    });
    gitlab.addProject('acme/sub/widgets');
    gitlab.addUser('bot');
    gitlab.setRole('acme/sub/widgets', 'bot', 'developer');
    token = gitlab.issueToken('bot');
    gitlab.addIssue('acme/sub/widgets', { title: 'One', author: 'alice' });
  });
  after(async () => {
    await gitlab.close();
  });

  test('documented requests succeed; the project id is the URL-encoded path, `/` unencoded is unknown', async () => {
    const created = await api(`/projects/${project}/issues/1/notes`, {
      method: 'POST',
      body: JSON.stringify({ body: 'hello' }),
    });
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { body: string }).body, 'hello');
    const raw = await api(
      `/projects/${project}/repository/files/${encodeURIComponent('.gitlab/forge.yml')}/raw?ref=main`,
    );
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await raw.text(), 'agent: command\n');
    assert.deepEqual(gitlab.takeViolations(), []);
    const unencoded = await api('/projects/acme/sub/widgets/issues/1');
    assert.equal(unencoded.status, 404);
    assert.match(gitlab.takeViolations()[0]?.reason ?? '', /undocumented: GET/);
  });

  test('missing, undocumented and mistyped attributes are 400 and violations', async () => {
    const cases: [string, RequestInit, RegExp][] = [
      [`/projects/${project}/issues/1/notes`, { method: 'POST', body: '{}' }, /body is missing/],
      [
        `/projects/${project}/issues/1/notes`,
        { method: 'POST', body: '{"body":"x","draft":true}' },
        /draft is not a documented/,
      ],
      [`/projects/${project}/issues/1/notes?per_page=many`, {}, /per_page is invalid/],
      [
        `/projects/${project}/statuses/${branches.main}`,
        { method: 'POST', body: '{"state":"done"}' },
        /state is invalid/,
      ],
      [
        `/projects/${project}/merge_requests`,
        { method: 'POST', body: '{"source_branch":"feature","target_branch":"main","title":7}' },
        /title is invalid/,
      ],
    ];
    for (const [path, init, reason] of cases) {
      const res = await api(path, init);
      assert.equal(res.status, 400, path);
      const [violation] = gitlab.takeViolations();
      assert.match(violation?.reason ?? '', reason);
    }
  });

  test('a bad token is 401; a non-member cannot see the project (404)', async () => {
    const res = await fetch(`${gitlab.url}/api/v4/user`, { headers: { 'private-token': 'nope' } });
    assert.equal(res.status, 401);
    assert.equal(gitlab.takeViolations().length, 1);
    gitlab.addUser('outsider');
    const outsider = gitlab.issueToken('outsider');
    const hidden = await fetch(`${gitlab.url}/api/v4/projects/${project}/issues/1`, {
      headers: { 'private-token': outsider },
    });
    assert.equal(hidden.status, 404);
    assert.deepEqual(gitlab.takeViolations(), [], 'a 404 for state is GitLab’s answer, not a protocol error');
  });

  test('notes paginate with GitLab’s headers', async () => {
    for (let i = 0; i < 45; i++)
      gitlab.addNote('acme/sub/widgets', { type: 'issue', iid: 1 }, { body: `n${i}`, author: 'alice' });
    const res = await api(`/projects/${project}/issues/1/notes?sort=asc&per_page=20&page=2`);
    assert.equal(res.headers.get('x-total'), '46');
    assert.equal(res.headers.get('x-total-pages'), '3');
    assert.equal(res.headers.get('x-next-page'), '3');
    assert.match(res.headers.get('link') ?? '', /per_page=20&page=3>; rel="next"/);
    assert.equal(((await res.json()) as unknown[]).length, 20);
  });

  test('commit statuses follow GitLab’s state machine; a finished one is retried as a new status', async () => {
    const post = (state: string) =>
      api(`/projects/${project}/statuses/${branches.feature}`, {
        method: 'POST',
        body: JSON.stringify({ state, name: 'Forge', description: state }),
      });
    const first = (await (await post('pending')).json()) as { id: number; ref: string };
    assert.equal(first.ref, 'feature', 'the ref defaults to a branch holding the commit');
    assert.equal(((await (await post('running')).json()) as { id: number }).id, first.id);
    const again = await post('running');
    assert.equal(again.status, 400);
    assert.match(gitlab.takeViolations()[0]?.reason ?? '', /Cannot transition status via :run from :running/);
    assert.equal((await post('skipped')).status, 400, 'a running status cannot be skipped');
    gitlab.takeViolations();
    assert.equal(((await (await post('success')).json()) as { id: number }).id, first.id);
    const retried = (await (await post('running')).json()) as { id: number };
    assert.notEqual(retried.id, first.id);
    assert.deepEqual(
      gitlab.statuses('acme/sub/widgets').map((s) => s.status),
      ['success', 'running'],
    );
    const unknownCommit = await api(`/projects/${project}/statuses/${'c'.repeat(40)}`, {
      method: 'POST',
      body: '{"state":"running"}',
    });
    assert.equal(unknownCommit.status, 404);
    gitlab.assertNoViolations();
  });

  test('merge requests: a missing source branch or an open duplicate is 409, like GitLab', async () => {
    const body = (source: string) =>
      JSON.stringify({ source_branch: source, target_branch: 'main', title: 'T' });
    const opened = await api(`/projects/${project}/merge_requests`, {
      method: 'POST',
      body: body('feature'),
    });
    assert.equal(opened.status, 201);
    const mr = (await opened.json()) as {
      iid: number;
      sha: string;
      source_project_id: number;
      target_project_id: number;
    };
    assert.equal(mr.sha, branches.feature);
    const duplicate = await api(`/projects/${project}/merge_requests`, {
      method: 'POST',
      body: body('feature'),
    });
    assert.equal(duplicate.status, 409);
    assert.match(
      JSON.stringify(await duplicate.json()),
      new RegExp(`already exists for this source branch: !${mr.iid}`),
    );
    const missing = await api(`/projects/${project}/merge_requests`, { method: 'POST', body: body('nope') });
    assert.equal(missing.status, 409);
    gitlab.assertNoViolations();
  });
});

/** Like GitLab, the fake serves git over HTTPS on the API's own origin (passed on to the real git server). */
describe('fake GitLab: git on the instance’s origin', () => {
  let git: GitServer;
  let gitlab: FakeGitLab;
  let token: string;
  let work: string;
  const PROJECT = 'acme/platform/widgets';
  const run = cleanGit;
  const basic = (secret: string) =>
    `http.extraHeader=Authorization: Basic ${Buffer.from(`oauth2:${secret}`).toString('base64')}`;

  before(async () => {
    git = await startGitServer({
      acceptToken: (t, repoPath, user) => user === 'oauth2' && gitlab.tokenAllows(t, repoPath),
    });
    gitlab = await FakeGitLab.start(gitServerHooks(git));
    gitlab.addProject(PROJECT);
    gitlab.addUser('bot');
    gitlab.setRole(PROJECT, 'bot', 'developer');
    token = gitlab.issueToken('bot');
    await git.seedRepo(`${PROJECT}.git`, { 'README.md': '# Widgets\n' });
    work = await mkdtemp(join(tmpdir(), 'fake-gitlab-git-'));
  });
  after(async () => {
    await gitlab.close();
    await git.close();
    await rm(work, { recursive: true, force: true });
  });

  test('clone and push with the token through the instance URL; no token, no access', async () => {
    const url = gitlab.cloneUrl(PROJECT);
    assert.equal(url, `${gitlab.url}/${PROJECT}.git`);
    const clone = await run(['-c', basic(token), 'clone', url, join(work, 'ok')]);
    assert.equal(clone.code, 0, clone.stderr);
    const dir = join(work, 'ok');
    assert.equal((await run(['checkout', '-b', 'feature'], dir)).code, 0);
    assert.equal((await run(['commit', '--allow-empty', '-m', 'x'], dir)).code, 0);
    const push = await run(['-c', basic(token), 'push', 'origin', 'feature'], dir);
    assert.equal(push.code, 0, push.stderr);
    assert.ok((await git.branches(`${PROJECT}.git`)).feature, 'the push reached the git server');
    const anonymous = await run(['clone', url, join(work, 'anon')]);
    assert.notEqual(anonymous.code, 0);
    assert.notEqual((await run(['-c', basic('glpat-wrong'), 'clone', url, join(work, 'wrong')])).code, 0);
    assert.equal(gitlab.calls.length, 0, 'git traffic is not an API call');
    gitlab.assertNoViolations();
  });

  test('anything else outside /api/v4 is still a violation', async () => {
    const res = await fetch(`${gitlab.url}/${PROJECT}.git/objects/info/packs`);
    assert.equal(res.status, 404);
    assert.match(gitlab.takeViolations()[0]?.reason ?? '', /not under \/api\/v4/);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanGit } from './clean-git.js';
import { type GitServer, startGitServer } from './git-server.js';

const TOKEN = 'tok-kit-123';
const header = `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;

const git = cleanGit;

describe('git-server kit', () => {
  let server: GitServer;
  let work: string;
  before(async () => {
    server = await startGitServer({ acceptToken: (t, repo) => t === TOKEN && repo !== 'other/secret.git' });
    work = await mkdtemp(join(tmpdir(), 'forge-kit-'));
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('serves clone and push with Basic auth, for nested (subgroup) paths too', async () => {
    const seed = await server.seedRepo('group/sub/project.git', { 'README.md': 'hi\n', 'src/a.ts': 'x\n' });
    const dir = join(work, 'c1');
    const clone = await git([
      '-c',
      `http.extraHeader=${header}`,
      'clone',
      server.cloneUrl('group/sub/project.git'),
      dir,
    ]);
    assert.equal(clone.code, 0, clone.stderr);
    assert.equal(await readFile(join(dir, 'src/a.ts'), 'utf8'), 'x\n');
    assert.equal((await git(['rev-parse', 'HEAD'], dir)).stdout.trim(), seed);

    await writeFile(join(dir, 'b.txt'), 'b\n');
    await git(['add', 'b.txt'], dir);
    await git(['commit', '-m', 'add b'], dir);
    const push = await git(
      ['-c', `http.extraHeader=${header}`, 'push', 'origin', 'HEAD:refs/heads/feature'],
      dir,
    );
    assert.equal(push.code, 0, push.stderr);
    const branches = await server.branches('group/sub/project.git');
    assert.equal(branches.main, seed);
    assert.ok(branches.feature);
    assert.equal(await server.fileAt('group/sub/project.git', 'feature', 'b.txt'), 'b\n');
    assert.equal(await server.fileAt('group/sub/project.git', 'feature', 'missing.txt'), undefined);
    const diff = await server.diff('group/sub/project.git', 'main', 'feature');
    assert.deepEqual(diff.files, ['b.txt']);
    const [head] = await server.log('group/sub/project.git', 'feature', 1);
    assert.equal(head?.message.trim(), 'add b');
    assert.deepEqual(head?.parents, [seed]);
    assert.equal(head?.author.email, 't@example.test');
    assert.ok(
      server.requests.some((r) => r.path.includes('git-receive-pack') && r.user === 'x-access-token'),
    );
  });

  it('refuses anonymous requests and wrong tokens with 401', async () => {
    await server.seedRepo('owner/name.git', { 'a.txt': 'a\n' });
    const anon = await git(['clone', server.cloneUrl('owner/name.git'), join(work, 'anon')]);
    assert.notEqual(anon.code, 0);
    const res = await fetch(`${server.cloneUrl('owner/name.git')}/info/refs?service=git-upload-pack`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic/);
    const bad = await git([
      '-c',
      `http.extraHeader=Authorization: Basic ${Buffer.from('x:wrong').toString('base64')}`,
      'clone',
      server.cloneUrl('owner/name.git'),
      join(work, 'bad'),
    ]);
    assert.notEqual(bad.code, 0);
    await server.seedRepo('other/secret.git', { 'a.txt': 'a\n' });
    const denied = await git([
      '-c',
      `http.extraHeader=${header}`,
      'clone',
      server.cloneUrl('other/secret.git'),
      join(work, 'denied'),
    ]);
    assert.notEqual(denied.code, 0);
  });

  it('hands the Basic-auth user name to acceptToken (GitLab: oauth2:<token>)', async () => {
    const seen: string[] = [];
    const gitlab = await startGitServer({
      acceptToken: (token, repo, user) => {
        seen.push(`${user}@${repo}`);
        return user === 'oauth2' && token === TOKEN;
      },
    });
    try {
      await gitlab.seedRepo('acme/platform/widgets.git', { 'a.txt': 'a\n' });
      const basic = (user: string) =>
        `http.extraHeader=Authorization: Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}`;
      const ok = await git([
        '-c',
        basic('oauth2'),
        'clone',
        gitlab.cloneUrl('acme/platform/widgets.git'),
        join(work, 'gl'),
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      const wrongUser = await git([
        '-c',
        basic('x-access-token'),
        'clone',
        gitlab.cloneUrl('acme/platform/widgets.git'),
        join(work, 'gl2'),
      ]);
      assert.notEqual(wrongUser.code, 0);
      assert.ok(seen.includes('oauth2@acme/platform/widgets.git'), seen.join(', '));
    } finally {
      await gitlab.close();
    }
  });

  it('pushAs moves a branch like a human push, and can delete files', async () => {
    const seed = await server.seedRepo(
      'owner/human.git',
      { 'a.txt': 'a\n', 'b.txt': 'b\n' },
      { branch: 'trunk' },
    );
    const sha = await server.pushAs(
      'owner/human.git',
      'trunk',
      { 'a.txt': 'A\n', 'b.txt': null },
      'human edit',
    );
    const [c] = await server.log('owner/human.git', 'trunk', 1);
    assert.equal(c?.sha, sha);
    assert.deepEqual(c?.parents, [seed]);
    assert.equal(c?.author.name, 'Human');
    assert.equal(await server.fileAt('owner/human.git', 'trunk', 'a.txt'), 'A\n');
    assert.equal(await server.fileAt('owner/human.git', 'trunk', 'b.txt'), undefined);
  });
});

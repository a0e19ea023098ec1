import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type GitServer, startGitServer } from '../../test/kit/git-server.js';
import type { GitCredentials } from '../forge/types.js';
import { GitWorkspace } from './workspace.js';

const TOKEN = 'ghs_rebaseTestToken0123456789';
const creds: GitCredentials = { username: 'x-access-token', password: TOKEN };
const bot = { botName: 'forge[bot]', botEmail: '123+forge[bot]@users.noreply.github.com' };
const alice = { authorName: 'Alice', authorEmail: 'alice@example.test' };
const claude = { name: 'Claude', email: 'noreply@anthropic.com' };

describe('GitWorkspace.rebaseOnto', () => {
  let server: GitServer;
  let root: string;
  let seq = 0;
  const open: GitWorkspace[] = [];

  before(async () => {
    server = await startGitServer({ acceptToken: (t) => t === TOKEN });
    root = await mkdtemp(join(tmpdir(), 'forge-rebase-'));
  });
  after(async () => {
    for (const ws of open) await ws.dispose();
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function setup(depth?: number) {
    const repo = `owner/rebase${++seq}.git`;
    const base = await server.seedRepo(repo, {
      'README.md': '# demo\n',
      'src/index.ts': 'export const x = 1;\n',
    });
    const ws = await GitWorkspace.clone({
      root,
      ...bot,
      taskId: `task-${seq}`,
      turn: 1,
      cloneUrl: server.cloneUrl(repo),
      creds,
      branch: 'main',
      ...(depth !== undefined ? { depth } : {}),
    });
    open.push(ws);
    return { repo, base, ws };
  }

  it('replays our commit on a branch a human pushed to: linear history, both changes, same authorship', async () => {
    const { repo, base, ws } = await setup();
    await writeFile(join(ws.dir, 'ours.txt'), 'ours\n');
    await writeFile(join(ws.dir, 'src/index.ts'), 'export const x = 2;\n');
    const ours = await ws.commitAll({ message: 'Our change', ...alice, coAuthors: [claude] });
    assert.ok(ours?.sha);
    assert.deepEqual(await ws.push(creds, 'original'), { ok: true });
    const [original] = await server.log(repo, 'original', 1);
    const human = await server.pushAs(repo, 'main', { 'theirs.txt': 'theirs\n' }, 'Human change');

    const rejected = await ws.push(creds, 'main');
    assert.equal(!rejected.ok && rejected.reason, 'rejected_non_fast_forward');
    const res = await ws.rebaseOnto(creds, 'main');
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.onto, human);
    assert.notEqual(res.sha, ours.sha);
    assert.equal(await ws.headSha(), res.sha);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });

    const log = await server.log(repo, 'main', 5);
    assert.deepEqual(
      log.map((c) => c.sha),
      [res.sha, human, base],
      'linear: the human commit, then ours',
    );
    assert.deepEqual(log[0]?.parents, [human]);
    assert.deepEqual(log[0]?.author, { name: 'Alice', email: 'alice@example.test' });
    assert.deepEqual(log[0]?.committer, { name: bot.botName, email: bot.botEmail });
    assert.equal(log[0]?.message, 'Our change\n\nCo-authored-by: Claude <noreply@anthropic.com>\n');
    assert.equal(log[0]?.message, original?.message);
    assert.equal(await server.fileAt(repo, 'main', 'theirs.txt'), 'theirs\n');
    assert.equal(await server.fileAt(repo, 'main', 'ours.txt'), 'ours\n');
    assert.equal(await server.fileAt(repo, 'main', 'src/index.ts'), 'export const x = 2;\n');
    assert.deepEqual((await server.diff(repo, human, 'main')).files, ['ours.txt', 'src/index.ts']);
    // The checkout was not used: it still holds exactly the agent's files.
    await assert.rejects(readFile(join(ws.dir, 'theirs.txt')));
  });

  it('keeps the author date of our commit', async () => {
    const { repo, ws } = await setup();
    await writeFile(join(ws.dir, 'ours.txt'), 'ours\n');
    await ws.commitAll({ message: 'dated', ...alice });
    assert.deepEqual(await ws.push(creds, 'keep-original'), { ok: true });
    await new Promise((r) => setTimeout(r, 1100));
    await server.pushAs(repo, 'main', { 'theirs.txt': 'theirs\n' }, 'Human change');
    const res = await ws.rebaseOnto(creds, 'main');
    assert.ok(res.ok);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    assert.equal(
      await serverGit(server, repo, ['log', '-1', '--format=%ad', '--date=raw', 'main']),
      await serverGit(server, repo, ['log', '-1', '--format=%ad', '--date=raw', 'keep-original']),
    );
    assert.notEqual(
      await serverGit(server, repo, ['log', '-1', '--format=%cd', '--date=raw', 'main']),
      await serverGit(server, repo, ['log', '-1', '--format=%cd', '--date=raw', 'keep-original']),
      'the commit date is new, as in a rebase',
    );
  });

  it('reports conflicting files, leaves HEAD alone and pushes nothing', async () => {
    const { repo, ws } = await setup();
    await writeFile(join(ws.dir, 'src/index.ts'), 'export const x = 2;\n');
    await writeFile(join(ws.dir, 'README.md'), '# ours\n');
    await writeFile(join(ws.dir, 'fine.txt'), 'fine\n');
    const ours = await ws.commitAll({ message: 'Our change', ...alice });
    assert.ok(ours?.sha);
    const human = await server.pushAs(
      repo,
      'main',
      { 'src/index.ts': 'export const x = 3;\n', 'README.md': '# theirs\n' },
      'Human change',
    );
    const res = await ws.rebaseOnto(creds, 'main');
    assert.deepEqual(res, { ok: false, conflict: ['README.md', 'src/index.ts'], onto: human });
    assert.equal(await ws.headSha(), ours.sha, 'HEAD is still our original commit');
    assert.equal((await server.branches(repo)).main, human, 'nothing pushed to the branch');
    // The work can still be kept elsewhere.
    assert.deepEqual(await ws.push(creds, 'main-turn-1'), { ok: true });
    assert.equal((await server.branches(repo))['main-turn-1'], ours.sha);
  });

  it('a .gitattributes left in the checkout does not pick the merge driver', async () => {
    const { repo, ws } = await setup();
    await writeFile(join(ws.dir, '.gitattributes'), '* merge=union\n');
    await writeFile(join(ws.dir, 'src/index.ts'), 'export const x = 2;\n');
    const ours = await ws.commitAll({
      message: 'Ours',
      ...alice,
      exclude: (p) => p === '.gitattributes',
    });
    assert.deepEqual(ours?.excluded, ['.gitattributes']);
    await server.pushAs(repo, 'main', { 'src/index.ts': 'export const x = 3;\n' }, 'Human change');
    const res = await ws.rebaseOnto(creds, 'main');
    assert.deepEqual(res.ok ? res : res.conflict, ['src/index.ts']);
  });

  it('rebases again when the branch moves twice, and works from a shallow clone', async () => {
    const { repo, ws } = await setup(1);
    await writeFile(join(ws.dir, 'ours.txt'), 'ours\n');
    await ws.commitAll({ message: 'Ours', ...alice });
    const h1 = await server.pushAs(repo, 'main', { 'one.txt': '1\n' }, 'one');
    const first = await ws.rebaseOnto(creds, 'main');
    assert.ok(first.ok);
    assert.equal(first.onto, h1);
    const h2 = await server.pushAs(repo, 'main', { 'two.txt': '2\n' }, 'two');
    const rejected = await ws.push(creds, 'main');
    assert.equal(!rejected.ok && rejected.reason, 'rejected_non_fast_forward');
    const second = await ws.rebaseOnto(creds, 'main');
    assert.ok(second.ok);
    assert.equal(second.onto, h2);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    const log = await server.log(repo, 'main', 4);
    assert.deepEqual(
      log.map((c) => c.message.trim()),
      ['Ours', 'two', 'one', 'Initial commit'],
    );
    assert.deepEqual(log[0]?.parents, [h2]);
    assert.deepEqual((await server.diff(repo, h2, 'main')).files, ['ours.txt']);
  });

  it('applies only our change after a force push rewrote the branch', async () => {
    const { repo, base, ws } = await setup();
    await writeFile(join(ws.dir, 'ours.txt'), 'ours\n');
    await ws.commitAll({ message: 'Ours', ...alice });
    // A human force-pushes a new history (a root commit without README.md) to the branch.
    const rewritten = await server.pushAs(
      repo,
      'rewritten',
      { 'src/index.ts': 'export const x = 1;\n', 'other.txt': 'o\n' },
      'rewritten',
    );
    await serverGit(server, repo, ['update-ref', 'refs/heads/main', rewritten]);
    const res = await ws.rebaseOnto(creds, 'main');
    assert.ok(res.ok);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    assert.equal(await server.fileAt(repo, 'main', 'README.md'), undefined, 'the deletion is not undone');
    assert.equal(res.onto, rewritten);
    assert.notEqual(res.onto, base);
    assert.deepEqual((await server.diff(repo, rewritten, 'main')).files, ['ours.txt']);
    assert.equal(await server.fileAt(repo, 'main', 'other.txt'), 'o\n');
  });

  it('does nothing when the branch did not move', async () => {
    const { ws } = await setup();
    await writeFile(join(ws.dir, 'ours.txt'), 'ours\n');
    const ours = await ws.commitAll({ message: 'Ours', ...alice });
    const res = await ws.rebaseOnto(creds, 'main');
    assert.ok(res.ok);
    assert.equal(res.sha, ours?.sha);
  });

  it('rejects an invalid branch name', async () => {
    const { ws } = await setup();
    await assert.rejects(ws.rebaseOnto(creds, '-x'), /invalid branch name/);
  });
});

function serverGit(server: GitServer, repo: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'git',
      args,
      {
        cwd: join(server.root, repo),
        env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: '/x' },
      },
      (err, stdout) => (err ? reject(err) : resolve(stdout.trim())),
    ),
  );
}

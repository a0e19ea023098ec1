import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type GitServer, startGitServer } from '../../test/kit/git-server.js';
import type { GitCredentials } from '../forge/types.js';
import { GitWorkspace } from './workspace.js';

const TOKEN = 'ghs_workspaceTestToken0123456789';
const creds: GitCredentials = { username: 'x-access-token', password: TOKEN };
const bot = { botName: 'forge[bot]', botEmail: '123+forge[bot]@users.noreply.github.com' };
const isWorkflow = (p: string) => p.startsWith('.github/workflows/');

/** Every regular file under `dir` (symlinks not followed). */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
        },
      },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('GitWorkspace', () => {
  let server: GitServer;
  let root: string;
  let repoSeq = 0;
  const open: GitWorkspace[] = [];

  before(async () => {
    server = await startGitServer({ acceptToken: (t) => t === TOKEN });
    root = await mkdtemp(join(tmpdir(), 'forge-ws-'));
  });
  after(async () => {
    for (const ws of open) await ws.dispose();
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function seeded(files: Record<string, string> = {}, repo = `owner/repo${++repoSeq}.git`) {
    const base = await server.seedRepo(repo, {
      'README.md': '# demo\n',
      'src/index.ts': 'export const x = 1;\n',
      '.github/workflows/ci.yml': 'on: push\n',
      ...files,
    });
    return { repo, base };
  }

  async function clone(
    repo: string,
    extra: { branch?: string; turn?: number; mirror?: boolean; depth?: number } = {},
  ) {
    const ws = await GitWorkspace.clone({
      root,
      ...bot,
      taskId: `task-${repo.replace(/\W/g, '_')}`,
      turn: extra.turn ?? 1,
      cloneUrl: server.cloneUrl(repo),
      creds,
      branch: extra.branch ?? 'main',
      ...(extra.mirror !== undefined ? { mirror: extra.mirror } : {}),
      ...(extra.depth !== undefined ? { depth: extra.depth } : {}),
    });
    open.push(ws);
    return ws;
  }

  it('clones with the token and leaves it nowhere on disk, in argv-visible URLs, or in request paths', async () => {
    const { repo, base } = await seeded();
    const ws = await clone(repo);
    assert.equal(await readFile(join(ws.dir, 'src/index.ts'), 'utf8'), 'export const x = 1;\n');
    assert.equal(await ws.headSha(), base);
    await ws.createBranch('forge/1-token');
    await writeFile(join(ws.dir, 'new.txt'), 'hello\n');
    const commit = await ws.commitAll({
      message: 'Add new.txt',
      authorName: 'Alice',
      authorEmail: 'alice@example.test',
    });
    assert.ok(commit?.sha);
    assert.deepEqual(await ws.push(creds, 'forge/1-token'), { ok: true });
    assert.equal(await server.fileAt(repo, 'forge/1-token', 'new.txt'), 'hello\n');

    // The whole turn directory (checkout, agent .git, host git dir) is free of the token.
    const b64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    const turnDir = dirname(ws.dir);
    for (const file of await allFiles(turnDir)) {
      const content = await readFile(file);
      assert.ok(!content.includes(TOKEN), `token in ${file}`);
      assert.ok(!content.includes(b64), `encoded token in ${file}`);
    }
    const agentConfig = await readFile(join(ws.dir, '.git/config'), 'utf8');
    assert.match(agentConfig, new RegExp(`url = ${server.cloneUrl(repo).replace(/[.]/g, '\\.')}`));
    for (const r of server.requests.filter((q) => q.repoPath === repo)) {
      assert.ok(!r.path.includes(TOKEN));
      assert.equal(r.user, 'x-access-token', `${r.method} ${r.path}`);
      assert.notEqual(r.status, 401, 'auth is sent up front, no challenge round-trip');
    }
  });

  it('fails cleanly with a wrong token and does not echo it', async () => {
    const { repo } = await seeded();
    const wrong = 'ghs_wrongTokenValue';
    await assert.rejects(
      GitWorkspace.clone({
        root,
        ...bot,
        taskId: 'bad-token',
        turn: 1,
        cloneUrl: server.cloneUrl(repo),
        creds: { username: 'x-access-token', password: wrong },
        branch: 'main',
      }),
      (e: Error) => !e.message.includes(wrong),
    );
    await assert.rejects(lstat(join(root, 'tasks/bad-token/turn-1')), 'failed clone cleans up');
  });

  it('refuses clone URLs with credentials', async () => {
    await assert.rejects(
      GitWorkspace.clone({
        root,
        ...bot,
        taskId: 't',
        turn: 1,
        cloneUrl: `http://x-access-token:${TOKEN}@127.0.0.1:${server.port}/owner/repo1.git`,
        creds,
        branch: 'main',
      }),
      /credentials/,
    );
  });

  it('commits as the requester, committed by the bot, with Co-authored-by trailers', async () => {
    const { repo, base } = await seeded();
    const ws = await clone(repo);
    await writeFile(join(ws.dir, 'src/index.ts'), 'export const x = 2;\n');
    const res = await ws.commitAll({
      message: 'Bump x',
      authorName: 'Alice <evil>\nInjected',
      authorEmail: 'alice@example.test',
      coAuthors: [
        { name: 'Claude', email: 'noreply@anthropic.com' },
        { name: 'Claude again', email: 'NOREPLY@anthropic.com' },
        { name: 'Alice', email: 'alice@example.test' },
      ],
    });
    assert.ok(res?.sha);
    assert.equal(await ws.headSha(), res.sha);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    const [c] = await server.log(repo, 'main', 1);
    assert.equal(c?.sha, res.sha);
    assert.deepEqual(c?.parents, [base]);
    assert.deepEqual(c?.author, { name: 'Alice evil Injected', email: 'alice@example.test' });
    assert.deepEqual(c?.committer, { name: bot.botName, email: bot.botEmail });
    assert.equal(c?.message, 'Bump x\n\nCo-authored-by: Claude <noreply@anthropic.com>\n');
  });

  it('returns null when nothing changed, and ignores gitignored files', async () => {
    const { repo } = await seeded({ '.gitignore': 'dist/\n' });
    const ws = await clone(repo);
    assert.equal(await ws.commitAll({ message: 'x', authorName: 'A', authorEmail: 'a@example.test' }), null);
    await mkdir(join(ws.dir, 'dist'));
    await writeFile(join(ws.dir, 'dist/out.js'), 'built\n');
    assert.deepEqual(await ws.changedFiles(), []);
    assert.equal(await ws.commitAll({ message: 'x', authorName: 'A', authorEmail: 'a@example.test' }), null);
  });

  it('lists changes including untracked and deletions', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    await rm(join(ws.dir, 'README.md'));
    await mkdir(join(ws.dir, 'deep/er'), { recursive: true });
    await writeFile(join(ws.dir, 'deep/er/file.txt'), 'x\n');
    await writeFile(join(ws.dir, ':(exclude)weird*name'), 'x\n');
    assert.deepEqual(await ws.changedFiles(), [':(exclude)weird*name', 'README.md', 'deep/er/file.txt']);
    const res = await ws.commitAll({ message: 'm', authorName: 'A', authorEmail: 'a@example.test' });
    assert.ok(res?.sha);
    assert.deepEqual(await ws.changedFiles(), []);
    await ws.push(creds, 'main');
    assert.equal(await server.fileAt(repo, 'main', 'README.md'), undefined);
    assert.equal(await server.fileAt(repo, 'main', ':(exclude)weird*name'), 'x\n');
  });

  it('leaves excluded paths (workflows) out of the commit and reports them', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    await writeFile(join(ws.dir, '.github/workflows/ci.yml'), 'on: pull_request\n');
    await writeFile(join(ws.dir, '.github/workflows/new.yml'), 'on: push\n');
    await writeFile(join(ws.dir, 'src/index.ts'), 'export const x = 3;\n');
    const res = await ws.commitAll({
      message: 'm',
      authorName: 'A',
      authorEmail: 'a@example.test',
      exclude: isWorkflow,
    });
    assert.ok(res?.sha);
    assert.deepEqual(res.excluded, ['.github/workflows/ci.yml', '.github/workflows/new.yml']);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    const diff = await server.diff(repo, `${res.sha}~1`, res.sha);
    assert.deepEqual(diff.files, ['src/index.ts']);

    // Only excluded changes left: no commit, but they are still reported.
    const again = await ws.commitAll({
      message: 'm',
      authorName: 'A',
      authorEmail: 'a@example.test',
      exclude: isWorkflow,
    });
    assert.deepEqual(again, {
      sha: null,
      excluded: ['.github/workflows/ci.yml', '.github/workflows/new.yml'],
    });
  });

  it('commits symlinks as links (never their targets), type changes, and skips FIFOs', async () => {
    const { repo } = await seeded({ 'lib/a.ts': 'a\n', 'file-then-dir': 'f\n' });
    const ws = await clone(repo);
    await rm(join(ws.dir, 'lib'), { recursive: true });
    await symlink('/etc', join(ws.dir, 'lib')); // tracked dir replaced by a symlink
    await symlink('/etc/shadow', join(ws.dir, 'secret-link'));
    await rm(join(ws.dir, 'file-then-dir'));
    await mkdir(join(ws.dir, 'file-then-dir'));
    await writeFile(join(ws.dir, 'file-then-dir/inner.txt'), 'inner\n');
    await run('mkfifo', [join(ws.dir, 'a-fifo')], ws.dir);
    const res = await ws.commitAll({ message: 'types', authorName: 'A', authorEmail: 'a@example.test' });
    assert.ok(res?.sha);
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    assert.equal(await server.fileAt(repo, 'main', 'secret-link'), '/etc/shadow');
    assert.equal(await server.fileAt(repo, 'main', 'lib'), '/etc');
    assert.equal(await server.fileAt(repo, 'main', 'lib/a.ts'), undefined);
    assert.equal(await server.fileAt(repo, 'main', 'file-then-dir/inner.txt'), 'inner\n');
    assert.equal(await server.fileAt(repo, 'main', 'a-fifo'), undefined);
  });

  it('never commits an embedded repository the agent cloned into the checkout', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    const nested = join(ws.dir, 'vendor/lib');
    await mkdir(nested, { recursive: true });
    await run('git', ['init', '-q', nested], ws.dir);
    await writeFile(join(nested, 'x.txt'), 'x\n');
    await writeFile(join(ws.dir, 'ok.txt'), 'ok\n');
    const res = await ws.commitAll({ message: 'm', authorName: 'A', authorEmail: 'a@example.test' });
    assert.ok(res?.sha);
    assert.deepEqual(res.excluded, ['vendor/lib']);
    await ws.push(creds, 'main');
    assert.deepEqual((await server.diff(repo, `${res.sha}~1`, res.sha)).files, ['ok.txt']);
  });

  it('squashes commits the agent made in its own .git into the host commit', async () => {
    const { repo, base } = await seeded();
    const ws = await clone(repo);
    await ws.createBranch('forge/9-agent-commits');
    assert.equal(
      (await run('git', ['rev-parse', '--abbrev-ref', 'HEAD'], ws.dir)).trim(),
      'forge/9-agent-commits',
    );
    await writeFile(join(ws.dir, 'a.txt'), 'a\n');
    await run('git', ['add', 'a.txt'], ws.dir);
    await run('git', ['commit', '-qm', 'agent commit 1'], ws.dir);
    await writeFile(join(ws.dir, 'b.txt'), 'b\n');
    await run('git', ['commit', '-qam', 'agent commit 2', '--allow-empty'], ws.dir);
    await writeFile(join(ws.dir, 'c.txt'), 'uncommitted\n');
    const res = await ws.commitAll({ message: 'Turn 1', authorName: 'A', authorEmail: 'a@example.test' });
    assert.ok(res?.sha);
    assert.deepEqual(await ws.push(creds, 'forge/9-agent-commits'), { ok: true });
    const log = await server.log(repo, 'forge/9-agent-commits', 5);
    assert.deepEqual(
      log.map((c) => c.message.trim()),
      ['Turn 1', 'Initial commit'],
    );
    assert.deepEqual(log[0]?.parents, [base]);
    assert.deepEqual((await server.diff(repo, base, 'forge/9-agent-commits')).files, [
      'a.txt',
      'b.txt',
      'c.txt',
    ]);
  });

  it('never forces: a concurrent human push makes ours rejected_non_fast_forward', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    await writeFile(join(ws.dir, 'ours.txt'), 'ours\n');
    assert.ok(await ws.commitAll({ message: 'ours', authorName: 'A', authorEmail: 'a@example.test' }));
    const human = await server.pushAs(repo, 'main', { 'theirs.txt': 'theirs\n' }, 'human change');
    const res = await ws.push(creds, 'main');
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.reason, 'rejected_non_fast_forward');
    assert.equal((await server.branches(repo)).main, human, 'the human commit survives');
  });

  it('reports other push failures as errors (e.g. revoked token)', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    await writeFile(join(ws.dir, 'x.txt'), 'x\n');
    await ws.commitAll({ message: 'x', authorName: 'A', authorEmail: 'a@example.test' });
    const res = await ws.push({ username: 'x-access-token', password: 'revoked' }, 'main');
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.reason, 'error');
  });

  it('checks remote branches with ls-remote', async () => {
    const { repo } = await seeded();
    await server.pushAs(repo, 'feature/x', { 'f.txt': 'f\n' }, 'feature');
    const ws = await clone(repo);
    assert.equal(await ws.remoteBranchExists(creds, 'feature/x'), true);
    assert.equal(await ws.remoteBranchExists(creds, 'feature/nope'), false);
    assert.equal(await ws.remoteBranchExists(creds, 'main'), true);
  });

  it('checks out an existing branch and pushes on top of it; works for subgroup paths', async () => {
    const { repo } = await seeded({}, 'group/sub/project.git');
    const head = await server.pushAs(repo, 'forge/5-existing', { 'prev.txt': 'turn 1\n' }, 'turn 1');
    const ws = await clone(repo, { branch: 'forge/5-existing', turn: 2 });
    assert.equal(await ws.headSha(), head);
    assert.equal(await readFile(join(ws.dir, 'prev.txt'), 'utf8'), 'turn 1\n');
    await writeFile(join(ws.dir, 'prev.txt'), 'turn 2\n');
    const res = await ws.commitAll({ message: 'turn 2', authorName: 'A', authorEmail: 'a@example.test' });
    assert.deepEqual(await ws.push(creds, 'forge/5-existing'), { ok: true });
    assert.equal((await server.branches(repo))['forge/5-existing'], res?.sha);
  });

  it('commits files owned by the sandbox user (uid 1000)', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    await writeFile(join(ws.dir, 'from-sandbox.txt'), 'by uid 1000\n');
    await writeFile(join(ws.dir, 'private.txt'), 'mode 600\n');
    await chmod(join(ws.dir, 'private.txt'), 0o600);
    await run('chown', ['-R', '1000:1000', ws.dir], ws.dir);
    assert.equal((await lstat(join(ws.dir, '.git'))).uid, 1000);
    // The agent (uid 1000) may have created the branch itself.
    await ws.createBranch('forge/2-uid');
    assert.equal((await lstat(join(ws.dir, '.git/refs/heads/forge/2-uid'))).uid, 1000);
    const res = await ws.commitAll({ message: 'uid', authorName: 'A', authorEmail: 'a@example.test' });
    assert.ok(res?.sha);
    assert.deepEqual(await ws.push(creds, 'forge/2-uid'), { ok: true });
    assert.equal(await server.fileAt(repo, 'forge/2-uid', 'private.txt'), 'mode 600\n');
    await chown(ws.dir, 0, 0);
  });

  it('shallow clone still commits and pushes', async () => {
    const { repo } = await seeded();
    await server.pushAs(repo, 'main', { 'second.txt': '2\n' }, 'second');
    const ws = await clone(repo, { depth: 1 });
    await writeFile(join(ws.dir, 'third.txt'), '3\n');
    const res = await ws.commitAll({ message: 'third', authorName: 'A', authorEmail: 'a@example.test' });
    assert.deepEqual(await ws.push(creds, 'main'), { ok: true });
    assert.equal((await server.branches(repo)).main, res?.sha);
  });

  it('mirror option: clones through a fetched bare mirror and sees new commits', async () => {
    const { repo } = await seeded();
    const ws1 = await clone(repo, { mirror: true });
    await writeFile(join(ws1.dir, 'one.txt'), '1\n');
    await ws1.commitAll({ message: 'one', authorName: 'A', authorEmail: 'a@example.test' });
    assert.deepEqual(await ws1.push(creds, 'main'), { ok: true });
    const human = await server.pushAs(repo, 'main', { 'two.txt': '2\n' }, 'two');
    const ws2 = await clone(repo, { mirror: true, turn: 2 });
    assert.equal(await ws2.headSha(), human);
    assert.equal(await readFile(join(ws2.dir, 'one.txt'), 'utf8'), '1\n');
    const hostConfig = await readFile(join(dirname(ws2.dir), 'host.git/config'), 'utf8');
    assert.match(hostConfig, /url = "http:\/\/127\.0\.0\.1/, 'host remote is the forge, not the mirror path');
    await writeFile(join(ws2.dir, 'three.txt'), '3\n');
    await ws2.commitAll({ message: 'three', authorName: 'A', authorEmail: 'a@example.test' });
    assert.deepEqual(await ws2.push(creds, 'main'), { ok: true });
    assert.ok(await ws2.remoteBranchExists(creds, 'main'));
    const mirrors = await readdir(join(root, 'mirrors'));
    assert.equal(mirrors.length >= 1, true);
  });

  it('dispose removes the turn directory and is idempotent', async () => {
    const { repo } = await seeded();
    const ws = await clone(repo);
    await ws.dispose();
    await ws.dispose();
    await assert.rejects(lstat(dirname(ws.dir)));
  });
});

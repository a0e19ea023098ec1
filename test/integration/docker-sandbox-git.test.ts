/**
 * The host keeps clone, commit and push while the agent writes the checkout as uid 1000 inside a
 * real container (the offline Debian base, which has git): host-side GitWorkspace (root here)
 * must commit and push exactly what the container user wrote, even after the agent used git on its
 * own copy of the repository.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GitWorkspace } from '../../src/git/workspace.js';
import { DockerSandbox } from '../../src/sandbox/docker/docker-sandbox.js';
import { useDockerEngine } from '../kit/docker.js';
import { ensureBaseImage } from '../kit/docker-images.js';
import { type GitServer, startGitServer } from '../kit/git-server.js';
import { collectLines, type SandboxDirs, sandboxDirs } from '../kit/sandbox-dirs.js';

const use = await useDockerEngine();
const TOKEN = 'ghs_dockerSandboxGitToken0123456789';
const creds = { username: 'x-access-token', password: TOKEN };

describe('host-side git with a checkout written by uid 1000 in a container', { skip: use.skip }, () => {
  let server: GitServer;
  let dirs: SandboxDirs;
  let sandbox: DockerSandbox;

  before(async () => {
    const docker = use.engine!.docker;
    server = await startGitServer({ acceptToken: (t) => t === TOKEN });
    dirs = await sandboxDirs('forge-sbx-git-');
    sandbox = new DockerSandbox({
      docker,
      image: await ensureBaseImage(docker),
      workerId: `it-git-${randomBytes(3).toString('hex')}`,
      scratchRoot: dirs.scratchRoot,
      limits: { memoryMb: 512, pids: 128 },
    });
  });
  after(async () => {
    await server?.close();
    await dirs?.cleanup();
  });

  test('GitWorkspace commits and pushes what the container user wrote', async () => {
    const repo = 'acme/sandboxed.git';
    await server.seedRepo(repo, { 'README.md': '# sandboxed\n', 'src/app.txt': 'v1\n' });
    const ws = await GitWorkspace.clone({
      root: join(dirs.root, 'workspaces'),
      taskId: 'git-task',
      turn: 1,
      cloneUrl: server.cloneUrl(repo),
      creds,
      branch: 'main',
      botName: 'forge[bot]',
      botEmail: 'forge@example.test',
    });
    try {
      await ws.createBranch('forge/1-sandboxed');
      const session = await sandbox.create({
        checkoutDir: ws.dir,
        homeDir: join(dirs.root, 'homes', 'git-task'),
        env: {},
        labels: { 'forge.task': 'git-task', 'forge.turn': '1' },
      });
      const lines = collectLines();
      let result: Awaited<ReturnType<typeof session.exec>>;
      try {
        result = await session.exec(
          [
            'sh',
            '-c',
            [
              'set -e',
              'echo v2 > src/app.txt',
              'mkdir -p docs && echo "by the agent" > docs/new.md',
              'rm README.md',
              // The agent may use git on its own copy; the host keeps the content, not its commits.
              'git add -A && git -c user.name=agent -c user.email=agent@sandbox commit -qm "agent commit"',
              'git log --format=%s -1',
              'id -u',
            ].join('\n'),
          ],
          { timeoutMs: 60_000, onLine: lines.onLine },
        );
      } finally {
        await session.destroy();
      }
      assert.equal(result.exitCode, 0, lines.all.map((l) => l.line).join('\n'));
      assert.deepEqual(lines.stdout(), ['agent commit', '1000']);
      assert.equal((await lstat(join(ws.dir, 'docs', 'new.md'))).uid, 1000);
      assert.equal((await lstat(join(ws.dir, '.git', 'index'))).uid, 1000);

      const committed = await ws.commitAll({
        message: 'Sandboxed change',
        authorName: 'Alice',
        authorEmail: 'alice@example.test',
      });
      assert.ok(committed?.sha, 'the host made a commit');
      assert.deepEqual(await ws.push(creds, 'forge/1-sandboxed'), { ok: true });
      assert.equal(await server.fileAt(repo, 'forge/1-sandboxed', 'src/app.txt'), 'v2\n');
      assert.equal(await server.fileAt(repo, 'forge/1-sandboxed', 'docs/new.md'), 'by the agent\n');
      assert.equal(await server.fileAt(repo, 'forge/1-sandboxed', 'README.md'), undefined);
      const [head] = await server.log(repo, 'forge/1-sandboxed', 1);
      assert.equal(head?.author.name, 'Alice');
      assert.equal(head?.committer.name, 'forge[bot]');
      assert.ok(!head?.message.includes('agent commit'), "the agent's own commit is not what was pushed");
    } finally {
      await ws.dispose();
    }
  });
});

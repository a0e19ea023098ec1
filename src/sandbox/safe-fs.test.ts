import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentDir, RefusedPathError, type RefusedReason } from './safe-fs.js';

const isRoot = process.getuid?.() === 0;

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'forge-safe-fs-'));
});
after(() => rm(base, { recursive: true, force: true }));

let serial = 0;
/** A fresh agent directory next to an "outside" directory holding a secret the host must not touch. */
async function setup(procFd: boolean) {
  const dir = join(base, `case-${++serial}`);
  const root = join(dir, 'home');
  const outside = join(dir, 'outside');
  await mkdir(root, { recursive: true });
  await mkdir(outside);
  const secret = join(outside, 'secret');
  await writeFile(secret, 'top secret\n', { mode: 0o600 });
  const tree = new AgentDir(root, { shownAs: '/home/agent', ownLikeRoot: true, procFd });
  const untouched = async () => {
    assert.equal(await readFile(secret, 'utf8'), 'top secret\n', 'the outside file keeps its content');
    const st = await stat(secret);
    assert.deepEqual([st.uid, st.mode & 0o777], [process.getuid?.(), 0o600], 'and owner, mode');
    assert.deepEqual(await readdir(outside), ['secret'], 'nothing is created outside');
  };
  return { root, outside, secret, tree, untouched };
}

function refused(reason: RefusedReason, path?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof RefusedPathError, String(error));
    assert.equal(error.reason, reason);
    if (path) assert.equal(error.path, path);
    return true;
  };
}

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

for (const procFd of [true, false]) {
  describe(`AgentDir (${procFd ? 'through /proc/self/fd' : 'without /proc'})`, () => {
    it('reads, writes, appends, lists and removes plain files', async () => {
      const { tree, root } = await setup(procFd);
      assert.equal(await tree.read('.forge/x.json', { maxBytes: 100 }), undefined);
      await tree.write('.forge/x.json', '{"a":1}');
      assert.equal(await readFile(join(root, '.forge/x.json'), 'utf8'), '{"a":1}');
      assert.equal((await stat(join(root, '.forge/x.json'))).mode & 0o777, 0o644);
      assert.equal(await tree.read('.forge/x.json', { maxBytes: 100 }), '{"a":1}');
      assert.equal(await tree.append('.forge/x.json', '\nmore'), true);
      assert.equal(await tree.append('.forge/missing', 'x'), false);
      assert.equal(await tree.read('.forge/x.json', { maxBytes: 100 }), '{"a":1}\nmore');
      await tree.mkdirs('a/b/c');
      assert.deepEqual(
        (await tree.list('')).sort((x, y) => x.name.localeCompare(y.name)),
        [
          { name: '.forge', type: 'directory' },
          { name: 'a', type: 'directory' },
        ],
      );
      assert.deepEqual(await tree.list('.forge'), [{ name: 'x.json', type: 'file' }], 'no temp file is left');
      assert.deepEqual(await tree.list('nowhere'), []);
      await tree.remove('.forge/x.json');
      await tree.remove('.forge/x.json');
      assert.deepEqual(await tree.list('.forge'), []);
      for (const bad of ['../escape', '/etc/passwd', 'a/../../b', 'a//b', '', '.']) {
        await assert.rejects(tree.read(bad, { maxBytes: 1 }), TypeError, bad);
        await assert.rejects(tree.write(bad, 'x'), TypeError, bad);
      }
    });

    it('never reads, writes, appends to or removes through a symlink to a file outside', async () => {
      const { tree, root, secret, untouched } = await setup(procFd);
      await mkdir(join(root, '.forge'));
      await symlink(secret, join(root, '.forge/usage.json'));
      await assert.rejects(
        tree.read('.forge/usage.json', { maxBytes: 1000 }),
        refused('symlink', '/home/agent/.forge/usage.json'),
      );
      await assert.rejects(tree.append('.forge/usage.json', 'x'), refused('symlink'));
      await untouched();
      // A write replaces the link itself.
      await tree.write('.forge/usage.json', '{}');
      assert.equal((await lstat(join(root, '.forge/usage.json'))).isFile(), true);
      assert.equal(await readFile(join(root, '.forge/usage.json'), 'utf8'), '{}');
      await untouched();
      await symlink(secret, join(root, 'link'));
      await tree.remove('link');
      await untouched();
    });

    it('never goes through a symlinked parent directory, dangling or not', async () => {
      const { tree, root, outside, untouched } = await setup(procFd);
      await symlink(outside, join(root, '.forge'));
      await symlink(join(outside, 'not-yet'), join(root, '.codex'));
      await assert.rejects(
        tree.read('.forge/secret', { maxBytes: 1000 }),
        refused('symlink', '/home/agent/.forge'),
      );
      await assert.rejects(tree.write('.forge/secret', 'pwned'), refused('symlink'));
      await assert.rejects(tree.write('.forge/new.json', 'pwned'), refused('symlink'));
      await assert.rejects(tree.append('.forge/secret', 'pwned'), refused('symlink'));
      await assert.rejects(tree.remove('.forge/secret'), refused('symlink'));
      await assert.rejects(tree.list('.forge'), refused('symlink'));
      await assert.rejects(tree.mkdirs('.forge/sub'), refused('symlink'));
      await assert.rejects(tree.write('.codex/config.toml', 'x'), refused('symlink', '/home/agent/.codex'));
      await assert.rejects(tree.mkdirs('.codex'), refused('symlink'));
      await untouched();
      assert.equal(await lstat(join(outside, 'not-yet')).catch(() => 'absent'), 'absent');
    });

    it('never blocks on a FIFO, as a file or where a directory is expected', async () => {
      const { tree, root, untouched } = await setup(procFd);
      mkfifo(join(root, 'summary.md'));
      await assert.rejects(tree.read('summary.md', { maxBytes: 1000 }), refused('not_file'));
      await assert.rejects(tree.read('summary.md', { maxBytes: 1000, truncate: true }), refused('not_file'));
      await assert.rejects(tree.append('summary.md', 'x'), refused('not_file'));
      await assert.rejects(tree.read('summary.md/inner', { maxBytes: 1000 }), refused('not_directory'));
      await assert.rejects(tree.write('summary.md/inner', 'x'), refused('not_directory'));
      // A write replaces it without opening it.
      await tree.write('summary.md', 'text');
      assert.equal(await tree.read('summary.md', { maxBytes: 1000 }), 'text');
      await untouched();
    });

    it('refuses files over the cap, or reads only the first bytes when asked to truncate', async () => {
      const { tree, root } = await setup(procFd);
      await writeFile(join(root, 'big'), 'x'.repeat(5000));
      await assert.rejects(tree.read('big', { maxBytes: 4999 }), (e: unknown) => {
        assert.ok(refused('too_large')(e));
        assert.match((e as Error).message, /^\/home\/agent\/big is larger than 4999 bytes$/);
        return true;
      });
      assert.equal((await tree.read('big', { maxBytes: 5000 }))?.length, 5000);
      assert.equal(await tree.read('big', { maxBytes: 10, truncate: true }), 'x'.repeat(10));
    });

    it('refuses a directory where a file is expected, and leaves it as it was', async () => {
      const { tree, root } = await setup(procFd);
      await mkdir(join(root, 'settings.json'));
      await writeFile(join(root, 'settings.json', 'keep'), 'k');
      await assert.rejects(tree.read('settings.json', { maxBytes: 100 }), refused('not_file'));
      await assert.rejects(tree.write('settings.json', '{}'), refused('not_file'));
      await assert.rejects(tree.append('settings.json', '{}'), refused('not_file'));
      await assert.rejects(tree.remove('settings.json'), refused('not_file'));
      assert.deepEqual(await readdir(join(root, 'settings.json')), ['keep']);
      assert.deepEqual(
        (await readdir(root)).filter((n) => n.endsWith('.tmp')),
        [],
        'the temp file is cleaned up',
      );
      await writeFile(join(root, 'file'), '');
      await assert.rejects(tree.write('file/x', '{}'), refused('not_directory', '/home/agent/file'));
    });

    it("gives what it creates to the root's owner through the descriptor, and nothing else", async (t) => {
      if (!isRoot) return t.skip('needs root to chown');
      const { tree, root, secret, untouched } = await setup(procFd);
      await chown(root, 1000, 1000);
      await mkdir(join(root, '.config'));
      await symlink(secret, join(root, '.config/link'));
      await tree.write('.config/tool/config.json', '{}');
      await tree.write('.config/link', 'replaced');
      await tree.mkdirs('.cache/deep');
      for (const made of [
        '.config/tool',
        '.config/tool/config.json',
        '.config/link',
        '.cache',
        '.cache/deep',
      ]) {
        const st = await lstat(join(root, made));
        assert.deepEqual([st.uid, st.gid], [1000, 1000], made);
      }
      assert.equal((await stat(join(root, '.config'))).uid, 0, 'existing directories keep their owner');
      await untouched();
    });
  });
}

describe('AgentDir against a concurrent swap', () => {
  it('never lands a write outside while the agent swaps a directory for a link to it', async () => {
    const { tree, root, untouched } = await setup(true);
    // The agent's loop: `d` is a directory, then gone, then a link to the outside, then gone.
    const swapper = spawn(
      'sh',
      ['-c', 'cd "$0" && while :; do rm -rf d; mkdir d; rm -rf d; ln -s ../outside d; rm -f d; done', root],
      { stdio: 'ignore' },
    );
    const seen = { written: 0, refused: 0 };
    try {
      // A path-based walk (lstat, then open by path) lets a write out within a few hundred rounds.
      for (let i = 0; i < 1000; i++) {
        try {
          await tree.write('d/e/file', 'x');
          seen.written++;
        } catch (error) {
          if (error instanceof RefusedPathError) seen.refused++;
          // ENOENT: the directory went away under the open descriptor; nothing was written.
          else assert.equal((error as NodeJS.ErrnoException).code, 'ENOENT');
        }
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    assert.ok(seen.written > 0 && seen.refused > 0, `the walk met both: ${JSON.stringify(seen)}`);
    await untouched();
  });
});

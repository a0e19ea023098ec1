import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SandboxError } from '../types.js';
import { parseSandboxUser } from './container-spec.js';
import { handOver, ownershipPlan } from './ownership.js';

const agent = parseSandboxUser('1000:1000');
const isRoot = process.getuid?.() === 0;

describe('ownershipPlan', () => {
  test('nothing to do when the worker already is the sandbox user; chown as root; refused otherwise', () => {
    assert.equal(ownershipPlan(agent, 1000), 'none');
    assert.equal(ownershipPlan(agent, 0), 'chown');
    assert.throws(
      () => ownershipPlan(agent, 1001),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'invalid_options' &&
        /uid 1001.*FORGE_SANDBOX_USER/.test(e.message),
    );
  });
});

describe('handOver', { skip: isRoot ? false : 'needs root to chown' }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('gives the tree to the sandbox user without following symlinks out of it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forge-own-'));
    dirs.push(root);
    const outside = join(root, 'outside.txt');
    await writeFile(outside, 'host file\n');
    const tree = join(root, 'home');
    await mkdir(join(tree, '.codex'), { recursive: true });
    await writeFile(join(tree, '.codex', 'config.toml'), 'x\n');
    await symlink(outside, join(tree, 'link-out'));
    await symlink(root, join(tree, 'dir-link-out'));
    await handOver([tree], agent, 'chown');
    for (const p of ['', '.codex', '.codex/config.toml']) {
      const st = await lstat(join(tree, p));
      assert.deepEqual([st.uid, st.gid], [1000, 1000], p || '.');
    }
    assert.equal((await lstat(join(tree, 'link-out'))).uid, 1000, 'the link itself');
    assert.equal((await stat(outside)).uid, 0, 'the link target is untouched');
    assert.equal((await stat(root)).uid, 0, 'the linked directory is untouched');
  });

  test('hands over a FIFO without opening it, and never a FIFO a link points to', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forge-own-'));
    dirs.push(root);
    const hostFifo = join(root, 'host-fifo');
    execFileSync('mkfifo', [hostFifo]);
    const tree = join(root, 'home');
    await mkdir(tree);
    execFileSync('mkfifo', [join(tree, 'fifo')]);
    await symlink(hostFifo, join(tree, 'fifo-link'));
    // An open() of either FIFO would block until a writer came: this resolving is the proof.
    await handOver([tree], agent, 'chown');
    assert.equal((await lstat(join(tree, 'fifo'))).uid, 1000);
    assert.equal((await lstat(join(tree, 'fifo-link'))).uid, 1000);
    assert.equal((await stat(hostFifo)).uid, 0, 'the FIFO outside is untouched');
  });

  test('leaves files someone else owns alone (only the worker’s own files change hands)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forge-own-'));
    dirs.push(root);
    await writeFile(join(root, 'theirs'), '');
    const { chown } = await import('node:fs/promises');
    await chown(join(root, 'theirs'), 4242, 4242);
    await handOver([root], agent, 'chown');
    assert.equal((await lstat(join(root, 'theirs'))).uid, 4242);
    assert.equal((await lstat(root)).uid, 1000);
  });
});

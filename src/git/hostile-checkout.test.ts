/**
 * The checkout is hostile: the agent ran arbitrary code in it before the host commits and pushes.
 * Each test plants programs wherever git could be tricked into running them, drives every host
 * operation, and checks no marker file appeared. A control run of plain git in the same checkout
 * proves the planted attacks are real (they do fire for a naive host).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  appendFile,
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type GitServer, startGitServer } from '../../test/kit/git-server.js';
import type { GitCredentials } from '../forge/types.js';
import { GitWorkspace } from './workspace.js';

const TOKEN = 'ghs_hostileTestToken';
const creds: GitCredentials = { username: 'x-access-token', password: TOKEN };

const HOOKS = [
  'pre-commit',
  'prepare-commit-msg',
  'commit-msg',
  'post-commit',
  'pre-push',
  'reference-transaction',
  'post-checkout',
  'post-merge',
  'post-rewrite',
  'post-index-change',
  'pre-auto-gc',
  'fsmonitor-watchman',
  'push-to-checkout',
];

describe('hostile checkout: nothing planted ever executes on the host', () => {
  let server: GitServer;
  let root: string;
  let markers: string;
  let evil: string;
  let seq = 0;

  before(async () => {
    server = await startGitServer({ acceptToken: (t) => t === TOKEN });
    root = await mkdtemp(join(tmpdir(), 'forge-hostile-'));
  });
  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    seq++;
    markers = join(root, `markers-${seq}`);
    evil = join(root, `evil-${seq}`);
    await mkdir(markers, { recursive: true });
    await mkdir(evil, { recursive: true });
  });

  /** A script that records `name` in the marker dir when anything runs it. */
  async function script(name: string): Promise<string> {
    const path = join(evil, `${name}.sh`);
    // Filters must still pass content through, so a naive host "works" while being owned; nothing
    // else reads stdin (an fsmonitor hook that waited on it would hang git).
    const body = /filter|lfs|textconv/.test(name) ? 'exec cat' : 'exit 0';
    await writeFile(path, `#!/bin/sh\ntouch '${markers}/${name}'\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  async function fired(): Promise<string[]> {
    return (await readdir(markers)).sort();
  }

  async function plantHooks(dir: string, tag: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const hook of HOOKS) {
      const target = await script(`${tag}-hook-${hook}`);
      await writeFile(join(dir, hook), `#!/bin/sh\nexec '${target}' "$@"\n`);
      await chmod(join(dir, hook), 0o755);
    }
  }

  /** Every repository-config way to make git run a program, plus an include that adds more. */
  async function evilConfig(tag: string): Promise<string> {
    const s = async (n: string) => script(`${tag}-${n}`);
    const include = join(evil, `${tag}-include.config`);
    await writeFile(include, `[core]\n\tfsmonitor = ${await s('include-fsmonitor')}\n`);
    const hooksDir = join(evil, `${tag}-hooksPath`);
    await plantHooks(hooksDir, `${tag}-hooksPath`);
    return [
      '[core]',
      `\tfsmonitor = ${await s('fsmonitor')}`,
      `\thooksPath = ${hooksDir}`,
      `\tpager = ${await s('pager')}`,
      `\teditor = ${await s('editor')}`,
      `\tsshCommand = ${await s('ssh')}`,
      `\taskPass = ${await s('askpass')}`,
      '[diff]',
      `\texternal = ${await s('diff-external')}`,
      '[diff "x"]',
      `\ttextconv = ${await s('textconv')}`,
      '[filter "x"]',
      `\tclean = ${await s('filter-clean')}`,
      `\tsmudge = ${await s('filter-smudge')}`,
      '\trequired = true',
      '[filter "lfs"]',
      `\tclean = ${await s('lfs-clean')}`,
      `\tsmudge = ${await s('lfs-smudge')}`,
      '\trequired = true',
      '[credential]',
      `\thelper = !${await s('credential-helper')}`,
      '[alias]',
      `\tadd = !${await s('alias-add')}`,
      `\tpush = !${await s('alias-push')}`,
      `\tstatus = !${await s('alias-status')}`,
      `\tcommit-tree = !${await s('alias-commit-tree')}`,
      '[uploadpack]',
      `\tpackObjectsHook = ${await s('pack-objects-hook')}`,
      '[gpg]',
      `\tprogram = ${await s('gpg')}`,
      '[commit]',
      '\tgpgSign = true',
      '[push]',
      '\tgpgSign = true',
      '[protocol]',
      '\tallow = always',
      '[include]',
      `\tpath = ${include}`,
      '[includeIf "gitdir:/"]',
      `\tpath = ${include}`,
      '',
    ].join('\n');
  }

  async function plantRepo(gitDir: string, tag: string): Promise<void> {
    await plantHooks(join(gitDir, 'hooks'), tag);
    await appendFile(join(gitDir, 'config'), await evilConfig(tag));
  }

  async function plantAttributes(checkout: string): Promise<void> {
    await writeFile(
      join(checkout, '.gitattributes'),
      '* filter=x diff=x\n*.bin filter=lfs diff=lfs merge=lfs\n',
    );
    await writeFile(join(checkout, 'payload.bin'), 'binary-ish\n');
  }

  async function newWorkspace(): Promise<{ ws: GitWorkspace; repo: string }> {
    const repo = `victim/repo${seq}.git`;
    await server.seedRepo(repo, { 'README.md': 'hi\n', '.github/workflows/ci.yml': 'on: push\n' });
    const ws = await GitWorkspace.clone({
      root,
      botName: 'forge[bot]',
      botEmail: 'bot@example.test',
      taskId: `hostile-${seq}`,
      turn: 1,
      cloneUrl: server.cloneUrl(repo),
      creds,
      branch: 'main',
    });
    return { ws, repo };
  }

  /** Everything the host ever does with a used checkout. */
  async function driveHost(ws: GitWorkspace, repo: string): Promise<string> {
    await writeFile(join(ws.dir, 'agent-change.txt'), 'made by the agent\n');
    await writeFile(join(ws.dir, '.github/workflows/ci.yml'), 'on: pull_request\n');
    assert.ok((await ws.changedFiles()).includes('agent-change.txt'));
    await ws.createBranch('forge/1-hostile');
    await ws.headSha();
    const res = await ws.commitAll({
      message: 'hostile turn',
      authorName: 'A',
      authorEmail: 'a@example.test',
      coAuthors: [{ name: 'Agent', email: 'agent@example.test' }],
      exclude: (p) => p.startsWith('.github/workflows/'),
    });
    assert.ok(res?.sha);
    assert.ok(res.excluded.includes('.github/workflows/ci.yml'));
    assert.deepEqual(await ws.push(creds, 'forge/1-hostile'), { ok: true });
    assert.equal(await ws.remoteBranchExists(creds, 'forge/1-hostile'), true);
    // Content went up unfiltered (no clean filter ran).
    assert.equal(await server.fileAt(repo, 'forge/1-hostile', 'agent-change.txt'), 'made by the agent\n');
    await ws.dispose();
    return res.sha;
  }

  /** A naive host: plain `git add` + `git commit` in the checkout. */
  function naiveGit(checkout: string, args: string[]): Promise<void> {
    return new Promise((resolve) =>
      execFile(
        'git',
        args,
        {
          cwd: checkout,
          env: {
            PATH: process.env.PATH,
            HOME: '/nonexistent',
            GIT_CONFIG_NOSYSTEM: '1',
            GIT_CONFIG_GLOBAL: '/dev/null',
            GIT_TERMINAL_PROMPT: '0',
          },
          timeout: 20_000,
        },
        () => resolve(),
      ),
    );
  }

  it('hooks, hooksPath, fsmonitor, filters (incl. lfs), aliases, includes planted in the agent .git', async () => {
    const { ws, repo } = await newWorkspace();
    await plantRepo(join(ws.dir, '.git'), 'agent');
    await plantAttributes(ws.dir);
    await driveHost(ws, repo);
    assert.deepEqual(await fired(), []);
  });

  it('control: the same planted checkout does run programs under plain git', async () => {
    const { ws } = await newWorkspace();
    await plantRepo(join(ws.dir, '.git'), 'agent');
    await plantAttributes(ws.dir);
    await writeFile(join(ws.dir, 'x.txt'), 'x\n');
    await naiveGit(ws.dir, ['status']);
    await naiveGit(ws.dir, ['add', '-A']);
    await naiveGit(ws.dir, ['-c', 'user.name=n', '-c', 'user.email=e@x', 'commit', '-m', 'x']);
    const got = await fired();
    await ws.dispose();
    // (Aliases cannot shadow built-ins, and a later core.fsmonitor from the include wins; the rest
    // of the planted programs do run.)
    for (const expected of [
      'agent-include-fsmonitor',
      'agent-filter-clean',
      'agent-lfs-clean',
      'agent-hooksPath-hook-pre-commit',
      'agent-hooksPath-hook-commit-msg',
      'agent-gpg',
    ]) {
      assert.ok(got.includes(expected), `${expected} should fire for a naive host; fired: ${got}`);
    }
  });

  it('a `.git` swapped for a symlink (or a gitfile) to a planted repository', async () => {
    const { ws, repo } = await newWorkspace();
    const elsewhere = join(evil, 'swapped.git');
    await rename(join(ws.dir, '.git'), elsewhere);
    await plantRepo(elsewhere, 'symlink');
    await symlink(elsewhere, join(ws.dir, '.git'));
    await plantAttributes(ws.dir);
    // And a nested directory whose `.git` is a gitfile pointing at the same planted repository.
    await mkdir(join(ws.dir, 'pkg'), { recursive: true });
    await writeFile(join(ws.dir, 'pkg/.git'), `gitdir: ${elsewhere}\n`);
    await driveHost(ws, repo);
    assert.deepEqual(await fired(), []);
  });

  it('an embedded repository with fsmonitor and hooks inside the checkout', async () => {
    const { ws, repo } = await newWorkspace();
    const nested = join(ws.dir, 'vendor/evil');
    await mkdir(nested, { recursive: true });
    await naiveGit(nested, ['init', '-q']);
    await plantRepo(join(nested, '.git'), 'nested');
    await writeFile(join(nested, 'f.txt'), 'f\n');
    await naiveGit(nested, ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', 'add', 'f.txt']);
    await rm(markers, { recursive: true, force: true });
    await mkdir(markers);
    await driveHost(ws, repo);
    assert.deepEqual(await fired(), []);
  });

  it('defense in depth: a shared-filesystem sandbox tampering with the host git dir itself', async () => {
    const { ws, repo } = await newWorkspace();
    const hostDir = join(dirname(ws.dir), 'host.git');
    await plantRepo(hostDir, 'host');
    await mkdir(join(hostDir, 'info'), { recursive: true });
    await writeFile(join(hostDir, 'info/attributes'), '* filter=x diff=x\n');
    // A config file replaced by a symlink must be replaced, not written through.
    const outside = join(evil, 'outside.config');
    await writeFile(outside, await readFile(join(hostDir, 'config'), 'utf8'));
    await rm(join(hostDir, 'config'));
    await symlink(outside, join(hostDir, 'config'));
    await driveHost(ws, repo);
    assert.deepEqual(await fired(), []);
    assert.match(await readFile(outside, 'utf8'), /fsmonitor/, 'symlink target left untouched');
  });

  it('a hostile remote URL planted in config is never used (the host pushes to the URL it cloned)', async () => {
    const { ws, repo } = await newWorkspace();
    const marker = join(markers, 'ext-remote');
    const hostDir = join(dirname(ws.dir), 'host.git');
    for (const gitDir of [join(ws.dir, '.git'), hostDir]) {
      await appendFile(
        join(gitDir, 'config'),
        `[remote "origin"]\n\turl = ext::sh -c touch% ${marker}\n\tpushurl = ext::sh -c touch% ${marker}\n`,
      );
    }
    await driveHost(ws, repo);
    assert.deepEqual(await fired(), []);
  });
});

/**
 * Host-side git for one turn of a task, treating the checkout as HOSTILE.
 *
 * Design: two git dirs per turn.
 *
 *   <root>/tasks/<taskId>/turn-<n>/
 *     host.git/   the host's git dir (bare clone). Only the host uses it; it is never mounted into a
 *                 sandbox. All host commands run `git --git-dir=host.git --work-tree=checkout …`.
 *     checkout/   the agent's working tree (= `dir`, what the sandbox mounts), with its own ordinary
 *                 `.git` (a --no-hardlinks local clone) so the agent can use normal git.
 *
 * Why: everything in `checkout/` — including `checkout/.git` — may have been rewritten by code the
 * agent ran. With an explicit --git-dir git does no repository discovery, so the agent's `.git`
 * (hooks, config with fsmonitor/filters/aliases/include.path/hooksPath, a symlinked `.git`) is never
 * read by the host. Validating or scrubbing a hostile `.git/config` instead is a blacklist that has
 * to know every setting that can execute a program (and every way to include more config); a git
 * dir the agent never touches needs no such list. The work tree contributes only file contents and
 * `.gitattributes`/`.gitignore`, which cannot name programs: filter and diff drivers are defined in
 * config, and the host's config is a fixed template (host-config.ts) restored before every command.
 * On top of that every command runs with no system/global config and forced safe settings
 * (run-git.ts). The agent's clone is made without hardlinks so a later `chown` of the checkout to
 * the sandbox user can never make the host's object files writable to the agent.
 *
 * History: the host commits the working tree relative to the turn's base (its own HEAD). Commits the
 * agent made in its own `.git` are not pushed; their content is, squashed into the host's single,
 * correctly authored commit per turn. So no object written by the agent ever enters the host repo
 * except as blob contents hashed from the work tree.
 *
 * The token is passed per command through the environment (run-git.ts): never in a URL, argv, or
 * either repo's config.
 */
import { copyFile, mkdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GitCredentials } from '../forge/types.js';
import { setAgentBranch } from './agent-repo.js';
import { isValidBranchName } from './branch-name.js';
import { buildCommitMessage, cleanPerson, type Person } from './commit-message.js';
import { cleanRemoteUrl, enforceHostConfig, hostConfigText } from './host-config.js';
import { syncMirror } from './mirror.js';
import { type GitProtocol, type GitRunOptions, type GitRunResult, runGit } from './run-git.js';

export interface WorkspaceOptions {
  /** FORGE_WORKSPACE_DIR. */
  root: string;
  botName: string;
  botEmail: string;
  /**
   * Keep a bare mirror per repository under `<root>/mirrors` and clone from it (after fetching it)
   * for fast starts on large repositories. Off by default.
   */
  mirror?: boolean;
}

export interface CloneOptions extends WorkspaceOptions {
  taskId: string;
  turn: number;
  cloneUrl: string;
  creds: GitCredentials;
  /** Existing branch to check out (a change request's head, or the base branch). */
  branch: string;
  /** Shallow clone of this many commits; full history by default (agents read logs and blame). */
  depth?: number;
}

export interface CommitInput {
  message: string;
  authorName: string;
  authorEmail: string;
  coAuthors?: Person[];
  /** Paths to leave out of the commit (e.g. `.github/workflows/**`); they are reported back. */
  exclude?: (path: string) => boolean;
}

/**
 * `null`: nothing changed at all. `sha: null`: the only changes were excluded (listed so the reply
 * can say so). Otherwise the new commit, which is now the workspace's HEAD.
 */
export type CommitResult = { sha: string; excluded: string[] } | { sha: null; excluded: string[] } | null;

export type PushResult =
  | { ok: true }
  | { ok: false; reason: 'rejected_non_fast_forward' | 'error'; message: string };

/**
 * `ok`: HEAD is now our commit replayed on `onto` (the remote branch's tip), ready to push without
 * force. Otherwise our change conflicts with what landed on the branch in `conflict` (paths, sorted;
 * empty when git could not name them) and HEAD is left unchanged.
 */
export type RebaseResult =
  | { ok: true; sha: string; onto: string }
  | { ok: false; conflict: string[]; onto: string };

const NETWORK_TIMEOUT_MS = 15 * 60_000;
const LOCAL_TIMEOUT_MS = 5 * 60_000;

function safeSegment(value: string, what: string): string {
  const s = value.replace(/[^A-Za-z0-9._-]/g, '_');
  if (!s || /^\.+$/.test(s)) throw new Error(`invalid ${what}: ${JSON.stringify(value)}`);
  return s;
}

function requireBranch(name: string): string {
  if (!isValidBranchName(name)) throw new Error(`invalid branch name: ${JSON.stringify(name)}`);
  return name;
}

function schemeOf(url: string): GitProtocol {
  return new URL(url).protocol === 'http:' ? 'http' : 'https';
}

interface StatusEntry {
  /** Porcelain XY code; the host index always equals HEAD, so Y carries the change. */
  code: string;
  /** An untracked embedded repository shows as `dir/`. */
  path: string;
}

/** Porcelain v1 `-z` status (no renames, so one path per entry). */
function parseStatus(out: string): StatusEntry[] {
  return out
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => ({ code: entry.slice(0, 2), path: entry.slice(3) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export class GitWorkspace {
  private constructor(
    /** The checkout the agent works in (the sandbox's checkoutDir). */
    readonly dir: string,
    private readonly turnDir: string,
    private readonly hostDir: string,
    private readonly remoteUrl: string,
    private readonly configText: string,
    private readonly bot: Person,
  ) {}

  static async clone(opts: CloneOptions): Promise<GitWorkspace> {
    const remoteUrl = cleanRemoteUrl(opts.cloneUrl);
    const branch = requireBranch(opts.branch);
    if (!Number.isSafeInteger(opts.turn) || opts.turn < 0) throw new Error(`invalid turn: ${opts.turn}`);
    const turnDir = join(opts.root, 'tasks', safeSegment(opts.taskId, 'task id'), `turn-${opts.turn}`);
    const hostDir = join(turnDir, 'host.git');
    const checkout = join(turnDir, 'checkout');
    // A retried job starts from scratch rather than trusting a half-made or used directory.
    await rm(turnDir, { recursive: true, force: true });
    await mkdir(turnDir, { recursive: true, mode: 0o700 });

    const base: GitRunOptions = { cwd: turnDir, env: { GIT_CEILING_DIRECTORIES: join(opts.root, 'tasks') } };
    try {
      const depth = opts.depth !== undefined ? ['--depth', String(opts.depth)] : [];
      const networkClone = () =>
        runGit(
          [
            'clone',
            '--bare',
            '--quiet',
            '--single-branch',
            '--no-tags',
            ...depth,
            '--branch',
            branch,
            '--',
            remoteUrl,
            hostDir,
          ],
          {
            ...base,
            auth: { url: remoteUrl, creds: opts.creds },
            protocols: [schemeOf(remoteUrl)],
            timeoutMs: NETWORK_TIMEOUT_MS,
          },
        );
      if (opts.mirror) {
        try {
          const mirrorDir = await syncMirror({
            root: opts.root,
            remoteUrl,
            creds: opts.creds,
            depth: opts.depth,
          });
          // Local clone from our own mirror (hardlinks are fine: both are host-only git dirs).
          await runGit(
            [
              'clone',
              '--bare',
              '--quiet',
              '--single-branch',
              '--no-tags',
              '--branch',
              branch,
              '--',
              mirrorDir,
              hostDir,
            ],
            { ...base, protocols: ['file'], timeoutMs: LOCAL_TIMEOUT_MS },
          );
        } catch {
          // The cache is an optimisation: a mirror another process is updating, or a damaged one,
          // must not fail the turn.
          await rm(hostDir, { recursive: true, force: true });
          await networkClone();
        }
      } else {
        await networkClone();
      }
      const objectFormat = (
        await runGit(['rev-parse', '--show-object-format'], { ...base, gitDir: hostDir })
      ).stdout.trim();
      const configText = hostConfigText(remoteUrl, objectFormat);
      await enforceHostConfig(hostDir, configText);

      // The agent's repository: an independent copy (no hardlinks, no alternates into host.git).
      await runGit(['clone', '--quiet', '--no-hardlinks', '--', hostDir, checkout], {
        ...base,
        protocols: ['file'],
        timeoutMs: LOCAL_TIMEOUT_MS,
      });
      const agentConfig = join(checkout, '.git', 'config');
      const setAgent = (key: string, value: string) =>
        runGit(['config', '--file', agentConfig, key, value], base);
      // Show the agent the real (credential-free) remote and let its own commits work.
      await setAgent('remote.origin.url', remoteUrl);
      await setAgent('user.name', cleanPerson({ name: opts.botName, email: opts.botEmail }).name);
      await setAgent('user.email', cleanPerson({ name: opts.botName, email: opts.botEmail }).email);
      // The freshly written index matches the freshly checked-out files: reuse its stat data so the
      // host's first status does not rehash the whole tree.
      await copyFile(join(checkout, '.git', 'index'), join(hostDir, 'index'));

      return new GitWorkspace(
        checkout,
        turnDir,
        hostDir,
        remoteUrl,
        configText,
        cleanPerson({ name: opts.botName, email: opts.botEmail }),
      );
    } catch (e) {
      await rm(turnDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Every host git command: host git dir, the checkout as work tree, the config template enforced. */
  private async git(args: string[], extra: Partial<GitRunOptions> = {}): Promise<GitRunResult> {
    await enforceHostConfig(this.hostDir, this.configText);
    return runGit(args, {
      cwd: this.turnDir,
      gitDir: this.hostDir,
      workTree: this.dir,
      safeDirectories: [this.dir, this.hostDir],
      timeoutMs: LOCAL_TIMEOUT_MS,
      ...extra,
    });
  }

  /**
   * Host git with no work tree at all, for plumbing that has no reason to read anything from the
   * checkout (e.g. a merge must not consult a `.gitattributes` the agent left there).
   */
  private async bareGit(args: string[], extra: Partial<GitRunOptions> = {}): Promise<GitRunResult> {
    await enforceHostConfig(this.hostDir, this.configText);
    return runGit(args, {
      cwd: this.turnDir,
      gitDir: this.hostDir,
      safeDirectories: [this.hostDir],
      timeoutMs: LOCAL_TIMEOUT_MS,
      ...extra,
    });
  }

  /** Starts branch `name` at the current HEAD, in the host repo and (best effort) the agent's. */
  async createBranch(name: string): Promise<void> {
    requireBranch(name);
    const sha = await this.headSha();
    await this.git(['update-ref', '--no-deref', `refs/heads/${name}`, sha]);
    await this.git(['symbolic-ref', 'HEAD', `refs/heads/${name}`]);
    await setAgentBranch(this.dir, name, sha);
  }

  async headSha(): Promise<string> {
    return (await this.git(['rev-parse', '--verify', '--end-of-options', 'HEAD^{commit}'])).stdout.trim();
  }

  /** Paths changed relative to HEAD, untracked included, ignored excluded. Embedded repos end in `/`. */
  async changedFiles(): Promise<string[]> {
    return (await this.status()).map((e) => e.path);
  }

  private async status(): Promise<StatusEntry[]> {
    const { stdout } = await this.git([
      'status',
      '--porcelain=v1',
      '-z',
      '--untracked-files=all',
      '--ignore-submodules=all',
      '--no-renames',
    ]);
    return parseStatus(stdout);
  }

  async commitAll(input: CommitInput): Promise<CommitResult> {
    const changed = await this.status();
    if (changed.length === 0) return null;
    const excluded: string[] = [];
    const removed: string[] = [];
    const include: string[] = [];
    for (const { code, path } of changed) {
      // An untracked directory holding its own repository (the agent cloned something) would become
      // a dangling gitlink; never commit one.
      if (path.endsWith('/')) excluded.push(path.slice(0, -1));
      else if (input.exclude?.(path)) excluded.push(path);
      else if (code[1] === 'D') removed.push(path);
      else include.push(path);
    }
    const head = await this.headSha();
    // Plumbing on explicit path lists rather than `git add <pathspecs>`: deletions are removed
    // without looking at the path (it may now lie "beyond a symbolic link", which `add` refuses),
    // --replace handles a file that became a directory or the reverse, and stdin has no argv limit.
    if (removed.length > 0) {
      await this.git(['update-index', '--force-remove', '-z', '--stdin'], {
        input: `${removed.join('\0')}\0`,
      });
    }
    if (include.length > 0) {
      await this.git(['update-index', '--add', '--remove', '--replace', '-z', '--stdin'], {
        input: `${include.join('\0')}\0`,
      });
    }
    const tree = (await this.git(['write-tree'])).stdout.trim();
    const headTree = (await this.git(['rev-parse', '--verify', `${head}^{tree}`])).stdout.trim();
    if (tree === headTree) return excluded.length ? { sha: null, excluded } : null;

    const author = cleanPerson({ name: input.authorName, email: input.authorEmail });
    const message = buildCommitMessage(input.message, author, input.coAuthors);
    const sha = (
      await this.git(['commit-tree', tree, '-p', head, '-F', '-'], {
        input: message,
        env: {
          GIT_AUTHOR_NAME: author.name,
          GIT_AUTHOR_EMAIL: author.email,
          GIT_COMMITTER_NAME: this.bot.name,
          GIT_COMMITTER_EMAIL: this.bot.email,
        },
      })
    ).stdout.trim();
    // Compare-and-swap: HEAD must still be the commit we built on.
    await this.git(['update-ref', '-m', 'forge: commit', 'HEAD', sha, head]);
    return { sha, excluded };
  }

  /** Pushes HEAD to `branch`. Never forces: a branch that moved meanwhile is reported, not overwritten. */
  async push(creds: GitCredentials, branch: string): Promise<PushResult> {
    requireBranch(branch);
    const result = await this.git(
      [
        'push',
        '--porcelain',
        '--no-verify',
        '--no-recurse-submodules',
        '--',
        this.remoteUrl,
        `HEAD:refs/heads/${branch}`,
      ],
      {
        auth: { url: this.remoteUrl, creds },
        protocols: [schemeOf(this.remoteUrl)],
        timeoutMs: NETWORK_TIMEOUT_MS,
        okCodes: [0, 1, 128],
      },
    );
    if (result.code === 0) return { ok: true };
    const rejected = result.stdout
      .split('\n')
      .find((line) => line.startsWith('!') && line.includes(`refs/heads/${branch}`));
    const message = (rejected ?? result.stderr).trim() || `git push exited ${result.code}`;
    if (rejected && /\[rejected\].*\((non-fast-forward|fetch first)\)/.test(rejected)) {
      return { ok: false, reason: 'rejected_non_fast_forward', message };
    }
    return { ok: false, reason: 'error', message };
  }

  /**
   * Replays HEAD — the turn's single commit — onto the current tip of the remote `branch`, for when a
   * push was rejected because someone pushed meanwhile. Like `git rebase`, but only with plumbing in
   * the host git dir: the checkout is not used (nor touched), so afterwards it no longer matches HEAD
   * and the workspace is only good for pushing.
   *
   * The three-way merge uses HEAD's parent (the turn's base) as its base whatever the branch's
   * history now is (even after a force push): `merge-tree --write-tree` in git 2.39 cannot be given a
   * merge base, so it merges our commit with a throwaway commit that has the new tip's tree and our
   * base as its parent, whose only merge base with ours is that base. The new commit keeps our
   * author, author date and message, is committed by the bot, and has the new tip as its only parent
   * (linear history). A change that is already on the branch still gets its (empty) commit, so the
   * turn always has a commit of its own.
   */
  async rebaseOnto(creds: GitCredentials, branch: string): Promise<RebaseResult> {
    requireBranch(branch);
    const upstream = 'refs/forge/upstream';
    await this.bareGit(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-recurse-submodules',
        '--no-write-fetch-head',
        '--',
        this.remoteUrl,
        `+refs/heads/${branch}:${upstream}`,
      ],
      {
        auth: { url: this.remoteUrl, creds },
        protocols: [schemeOf(this.remoteUrl)],
        timeoutMs: NETWORK_TIMEOUT_MS,
      },
    );
    const revParse = async (rev: string) =>
      (await this.bareGit(['rev-parse', '--verify', '--end-of-options', rev])).stdout.trim();
    const ours = await revParse('HEAD^{commit}');
    const base = await revParse(`${ours}^1^{commit}`);
    const onto = await revParse(`${upstream}^{commit}`);
    if (onto === base) return { ok: true, sha: ours, onto };

    const ontoTree = await revParse(`${onto}^{tree}`);
    const theirs = (
      await this.bareGit(['commit-tree', ontoTree, '-p', base, '-F', '-'], {
        input: 'forge: rebase base\n',
        env: this.botIdentity('AUTHOR', 'COMMITTER'),
      })
    ).stdout.trim();
    const merged = await this.bareGit(
      ['merge-tree', '--write-tree', '-z', '--name-only', '--no-messages', theirs, ours],
      { okCodes: [0, 1] },
    );
    const [tree = '', ...paths] = merged.stdout.split('\0');
    if (merged.code !== 0) {
      return { ok: false, conflict: [...new Set(paths.filter(Boolean))].sort(), onto };
    }

    const raw = (await this.bareGit(['cat-file', 'commit', ours])).stdout;
    const split = raw.indexOf('\n\n');
    const header = split < 0 ? raw : raw.slice(0, split);
    const message = split < 0 ? '' : raw.slice(split + 2);
    const author = /^author (.*) <(.*)> (\d+ [+-]\d{4})$/m.exec(header);
    if (!author) throw new Error(`commit ${ours} has no readable author`);
    const sha = (
      await this.bareGit(['commit-tree', tree.trim(), '-p', onto, '-F', '-'], {
        input: message,
        env: {
          GIT_AUTHOR_NAME: author[1] ?? '',
          GIT_AUTHOR_EMAIL: author[2] ?? '',
          GIT_AUTHOR_DATE: author[3] ?? '',
          ...this.botIdentity('COMMITTER'),
        },
      })
    ).stdout.trim();
    // Compare-and-swap, like commitAll: HEAD must still be the commit we replayed.
    await this.bareGit(['update-ref', '-m', 'forge: rebase', 'HEAD', sha, ours]);
    return { ok: true, sha, onto };
  }

  private botIdentity(...roles: ('AUTHOR' | 'COMMITTER')[]): Record<string, string> {
    const env: Record<string, string> = {};
    for (const role of roles) {
      env[`GIT_${role}_NAME`] = this.bot.name;
      env[`GIT_${role}_EMAIL`] = this.bot.email;
    }
    return env;
  }

  async remoteBranchExists(creds: GitCredentials, branch: string): Promise<boolean> {
    requireBranch(branch);
    const { code } = await this.git(
      ['ls-remote', '--heads', '--exit-code', '--', this.remoteUrl, `refs/heads/${branch}`],
      {
        auth: { url: this.remoteUrl, creds },
        protocols: [schemeOf(this.remoteUrl)],
        timeoutMs: NETWORK_TIMEOUT_MS,
        okCodes: [0, 2],
      },
    );
    return code === 0;
  }

  /** Removes the turn's directory (checkout and host git dir). Idempotent; never follows symlinks. */
  async dispose(): Promise<void> {
    await rm(this.turnDir, { recursive: true, force: true });
    // The task's directory goes too once its last turn is gone (another turn may still use it).
    await rmdir(dirname(this.turnDir)).catch(() => undefined);
  }
}

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { GitServer } from '../git-server.js';
import type { FakeGitLabHooks } from './context.js';

/** The fake GitLab's view of repositories, from the real git server (`group/sub/project.git`). */
export function gitServerHooks(git: GitServer): FakeGitLabHooks {
  const repo = (path: string) => `${path}.git`;
  const run = (path: string, args: string[]) =>
    new Promise<string | undefined>((resolve) => {
      execFile(
        'git',
        ['--git-dir', join(git.root, repo(path)), ...args],
        {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
        },
        (error, stdout) => resolve(error ? undefined : stdout),
      );
    });
  return {
    gitBackend: git.url,
    branchSha: async (path, branch) =>
      (await git.branches(repo(path)).catch(() => ({}) as Record<string, string>))[branch],
    async branchesContaining(path, sha) {
      const out = await run(path, [
        'for-each-ref',
        '--format=%(refname:strip=2)',
        '--contains',
        sha,
        'refs/heads',
      ]);
      return (out ?? '').split('\n').filter(Boolean);
    },
    commitExists: async (path, sha) =>
      /^[0-9a-f]{7,40}$/.test(sha) && (await run(path, ['cat-file', '-e', `${sha}^{commit}`])) !== undefined,
    fileAt: (path, ref, file) => git.fileAt(repo(path), ref, file).catch(() => undefined),
  };
}

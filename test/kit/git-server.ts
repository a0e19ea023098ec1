/**
 * A real git smart-HTTP server for tests: `git http-backend` run as CGI behind a Node http server on
 * loopback. It stands in for github.com / gitlab.com transport: every request (fetch and push) needs
 * Basic auth like a private repository, so a test proves Forge really authenticates.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitServerOptions {
  /** Directory holding the bare repositories; a temporary one (removed on close) when absent. */
  root?: string;
  /**
   * Decides whether the Basic-auth password may access `repoPath` (`owner/name.git`, or with
   * subgroups `group/sub/project.git`). `user` is the Basic-auth user name (GitHub: `x-access-token`,
   * GitLab: `oauth2`).
   */
  acceptToken: (token: string, repoPath: string, user: string) => boolean;
}

export interface GitRequest {
  method: string;
  /** Raw request target (path and query) exactly as the client sent it. */
  path: string;
  repoPath: string | undefined;
  /** Basic-auth user name, or undefined for an anonymous request. */
  user: string | undefined;
  status: number;
  /** When the request arrived (Date.now()). */
  at: number;
}

export interface GitPerson {
  name: string;
  email: string;
}

export interface GitCommit {
  sha: string;
  parents: string[];
  author: GitPerson;
  committer: GitPerson;
  message: string;
}

export interface GitServer {
  url: string;
  port: number;
  root: string;
  /** Every request served, in order. */
  requests: GitRequest[];
  cloneUrl(repoPath: string): string;
  /** Creates the bare repository if needed and commits `files` on `branch` (default `main`). */
  seedRepo(repoPath: string, files: Record<string, string>, opts?: { branch?: string }): Promise<string>;
  branches(repoPath: string): Promise<Record<string, string>>;
  log(repoPath: string, ref: string, n?: number): Promise<GitCommit[]>;
  diff(repoPath: string, base: string, head: string): Promise<{ files: string[]; patch: string }>;
  /** Content of `file` at `ref`, or undefined when it does not exist there. */
  fileAt(repoPath: string, ref: string, file: string): Promise<string | undefined>;
  /** Simulates a human pushing a commit to `branch` (null content deletes the file). Returns the sha. */
  pushAs(
    repoPath: string,
    branch: string,
    files: Record<string, string | null>,
    message: string,
    author?: GitPerson,
  ): Promise<string>;
  close(): Promise<void>;
}

// The server's own git must not pick up the machine's global/system config.
const gitEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  HOME: '/nonexistent',
  LANG: 'C',
};

function git(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd: opts.cwd, env: { ...gitEnv, ...opts.env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
    // A command that exits without reading stdin must not crash us with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}

// Smart-HTTP and dumb-HTTP endpoints http-backend serves; what precedes them is the repository path.
const SERVICE_SUFFIX =
  /\/(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+|info\/packs|info\/alternates|info\/http-alternates)$/;

function splitRepoPath(pathname: string): string | undefined {
  const m = SERVICE_SUFFIX.exec(pathname);
  if (!m) return undefined;
  const repo = pathname.slice(1, m.index);
  // No traversal out of the project root (http-backend refuses too; be explicit).
  if (!repo || repo.split('/').some((s) => s === '..' || s === '.' || s === '')) return undefined;
  return repo;
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const ownRoot = options.root === undefined;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'forge-git-server-')));
  await mkdir(root, { recursive: true });
  const requests: GitRequest[] = [];
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const rawPath = req.url ?? '/';
    const url = new URL(rawPath, 'http://localhost');
    const pathname = decodeURIComponent(url.pathname);
    const repoPath = splitRepoPath(pathname);
    const auth = parseBasic(req.headers.authorization);
    const record: GitRequest = {
      method: req.method ?? 'GET',
      path: rawPath,
      repoPath,
      user: auth?.user,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    const reply = (status: number, headers: Record<string, string>, body: string): void => {
      record.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };

    if (!repoPath) {
      reply(404, { 'Content-Type': 'text/plain' }, 'not found\n');
      return;
    }
    if (!auth || !options.acceptToken(auth.password, repoPath, auth.user)) {
      // Private-repository behaviour: no anonymous fetch, no anonymous push.
      reply(401, { 'WWW-Authenticate': 'Basic realm="forge-test"', 'Content-Type': 'text/plain' }, 'auth\n');
      return;
    }

    const env: NodeJS.ProcessEnv = {
      ...gitEnv,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: pathname,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: auth.user, // enables receive-pack
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    };
    // Without a length http-backend reads the (chunked) body to EOF.
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });

    // CGI output: header lines, a blank line, then the body, which is streamed straight through.
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (sep < 0) {
        sep = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (sep < 0) return;
      headersDone = true;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      record.status = status;
      res.writeHead(status, headers);
      res.write(head.subarray(sep + sepLen));
    });
    child.on('close', (code) => {
      if (!headersDone) {
        record.status = 500;
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`http-backend exited ${code}: ${stderr}\n`);
        return;
      }
      res.end();
    });
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const repoDir = (repoPath: string): string => join(root, repoPath);

  /** Commits `files` on top of `branch` (or as a root commit) directly in the bare repository. */
  const commitFiles = async (
    repoPath: string,
    branch: string,
    files: Record<string, string | null>,
    message: string,
    person: GitPerson,
  ): Promise<string> => {
    const dir = repoDir(repoPath);
    const ref = `refs/heads/${branch}`;
    const parent = (
      await git(['rev-parse', '--verify', '--quiet', ref], { cwd: dir }).catch(() => '')
    ).trim();
    const tmp = await mkdtemp(join(tmpdir(), 'forge-git-index-'));
    try {
      const env = {
        GIT_INDEX_FILE: join(tmp, 'index'),
        GIT_AUTHOR_NAME: person.name,
        GIT_AUTHOR_EMAIL: person.email,
        GIT_COMMITTER_NAME: person.name,
        GIT_COMMITTER_EMAIL: person.email,
      };
      if (parent) await git(['read-tree', parent], { cwd: dir, env });
      // One index-info batch: mode 0 removes a path (works in a bare repository, unlike --force-remove).
      const lines: string[] = [];
      for (const [file, content] of Object.entries(files)) {
        if (content === null) {
          lines.push(`0 ${'0'.repeat(40)}\t${file}`);
          continue;
        }
        const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: dir, env, input: content })).trim();
        lines.push(`100644 ${blob}\t${file}`);
      }
      await git(['update-index', '--index-info'], { cwd: dir, env, input: `${lines.join('\n')}\n` });
      const tree = (await git(['write-tree'], { cwd: dir, env })).trim();
      const args = ['commit-tree', tree, '-F', '-'];
      if (parent) args.push('-p', parent);
      const sha = (await git(args, { cwd: dir, env, input: message })).trim();
      await git(['update-ref', ref, sha, parent || '0'.repeat(40)], { cwd: dir, env });
      return sha;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  };

  return {
    url: base,
    port,
    root,
    requests,
    cloneUrl: (repoPath) => `${base}/${repoPath}`,
    async seedRepo(repoPath, files, opts = {}) {
      const branch = opts.branch ?? 'main';
      const dir = repoDir(repoPath);
      await mkdir(dir, { recursive: true });
      await git(['init', '--quiet', '--bare', `--initial-branch=${branch}`, dir]);
      return commitFiles(repoPath, branch, files, 'Initial commit', {
        name: 'Seed',
        email: 'seed@example.test',
      });
    },
    async branches(repoPath) {
      const out = await git(['for-each-ref', '--format=%(refname:strip=2) %(objectname)', 'refs/heads'], {
        cwd: repoDir(repoPath),
      });
      const result: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const [name, sha] = line.split(' ');
        if (name && sha) result[name] = sha;
      }
      return result;
    },
    async log(repoPath, ref, n = 20) {
      const out = await git(
        ['log', `-n${n}`, '--format=%H%x00%P%x00%an%x00%ae%x00%cn%x00%ce%x00%B%x1e', ref, '--'],
        {
          cwd: repoDir(repoPath),
        },
      );
      return out
        .split('\x1e')
        .map((r) => r.replace(/^\n/, ''))
        .filter((r) => r.length > 0)
        .map((r) => {
          const [sha = '', parents = '', an = '', ae = '', cn = '', ce = '', message = ''] = r.split('\x00');
          return {
            sha,
            parents: parents ? parents.split(' ') : [],
            author: { name: an, email: ae },
            committer: { name: cn, email: ce },
            message,
          };
        });
    },
    async diff(repoPath, baseRef, head) {
      const cwd = repoDir(repoPath);
      const names = await git(['diff', '--no-ext-diff', '--name-only', '-z', baseRef, head, '--'], { cwd });
      const patch = await git(['diff', '--no-ext-diff', baseRef, head, '--'], { cwd });
      return { files: names.split('\0').filter(Boolean), patch };
    },
    async fileAt(repoPath, ref, file) {
      try {
        return await git(['cat-file', 'blob', `${ref}:${file}`], { cwd: repoDir(repoPath) });
      } catch {
        return undefined;
      }
    },
    pushAs(repoPath, branch, files, message, author = { name: 'Human', email: 'human@example.test' }) {
      return commitFiles(repoPath, branch, files, message, author);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      if (ownRoot) await rm(root, { recursive: true, force: true });
    },
  };
}

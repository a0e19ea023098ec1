/**
 * The one place host-side git is spawned. Every host git command runs here so the hardening below
 * cannot be forgotten by a caller.
 *
 * Why `child_process` and not simple-git: we need a *complete* environment built from scratch (no
 * inherited GIT_DIR / GIT_CONFIG_PARAMETERS / GIT_TRACE / HOME surprises) plus GIT_CONFIG_COUNT for
 * the token; simple-git 4 refuses several of these variables (GIT_TERMINAL_PROMPT, GIT_ASKPASS,
 * GIT_SSL_CAINFO) and would add a layer between us and argv we would then have to audit.
 */
import { spawn } from 'node:child_process';
import type { GitCredentials } from '../forge/types.js';

export type GitProtocol = 'http' | 'https' | 'file';

export interface GitRunOptions {
  /** Always given for commands that need a repository: git never discovers one from `cwd`. */
  gitDir?: string;
  workTree?: string;
  /** Directories git may treat as safe despite another owner (the sandbox writes as uid 1000). */
  safeDirectories?: string[];
  cwd: string;
  input?: string;
  /** Sends `Authorization` to this URL's origin only, through the environment (never argv/config). */
  auth?: { url: string; creds: GitCredentials };
  /** Transports this command may use; everything else (ext::, ssh, file, …) is refused. */
  protocols?: GitProtocol[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Exit codes that are not errors (default: only 0). */
  okCodes?: number[];
}

export interface GitRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/**
 * Settings forced on every command. Command-line config beats every config file, so even a
 * tampered repository config cannot switch these back on. Repository config of the host git dir is
 * additionally restored from a template before each command (see host-config.ts).
 */
const HARDENING: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.untrackedCache=false',
  'core.askPass=',
  'core.pager=cat',
  'core.editor=true',
  'core.sshCommand=false',
  'credential.helper=',
  'diff.external=',
  'http.followRedirects=false',
  'protocol.allow=never',
  'protocol.ext.allow=never',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'push.gpgSign=false',
  'push.recurseSubmodules=no',
  'fetch.recurseSubmodules=false',
  'submodule.recurse=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'advice.detachedHead=false',
  'init.defaultBranch=main',
];

/** Harmless variables a deployment may need (TLS trust, proxies, temp dir). Nothing else is inherited. */
const PASS_THROUGH = [
  'PATH',
  'TMPDIR',
  'TZ',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
];

export function basicAuthHeader(creds: GitCredentials): string {
  return `Authorization: Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** `http://host:port/` — the URL prefix `http.<url>.extraHeader` is scoped to. */
function originOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}/`;
}

function buildEnv(opts: GitRunOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASS_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    // No system or user config: the machine's credential helpers, filters (git-lfs) and aliases
    // must not apply, and the result must not depend on who runs Forge.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    HOME: '/nonexistent',
    XDG_CONFIG_HOME: '/nonexistent',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GIT_PAGER: 'cat',
    GIT_EDITOR: 'true',
    GIT_NO_REPLACE_OBJECTS: '1',
    // Paths we pass are file names, never pathspec magic (a file may be called `:(exclude)x`).
    GIT_LITERAL_PATHSPECS: '1',
    GIT_PROTOCOL_FROM_USER: '0',
    LC_ALL: 'C',
    LANG: 'C',
  });
  if (opts.auth) {
    // The token travels only in this child's environment: not argv (visible in `ps`), not a URL,
    // not a config file. Scoped to the remote's origin so a redirect elsewhere never receives it.
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = `http.${originOf(opts.auth.url)}.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = basicAuthHeader(opts.auth.creds);
  }
  return { ...env, ...opts.env };
}

function buildArgs(args: string[], opts: GitRunOptions): string[] {
  const pre: string[] = [];
  for (const c of HARDENING) pre.push('-c', c);
  for (const p of opts.protocols ?? []) pre.push('-c', `protocol.${p}.allow=always`);
  for (const d of opts.safeDirectories ?? []) pre.push('-c', `safe.directory=${d}`);
  if (opts.gitDir) pre.push(`--git-dir=${opts.gitDir}`);
  if (opts.workTree) pre.push(`--work-tree=${opts.workTree}`);
  return [...pre, ...args];
}

function redact(text: string, opts: GitRunOptions): string {
  if (!opts.auth) return text;
  let out = text;
  const secrets = [
    opts.auth.creds.password,
    basicAuthHeader(opts.auth.creds).slice('Authorization: Basic '.length),
  ];
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

export function runGit(args: string[], opts: GitRunOptions): Promise<GitRunResult> {
  const argv = buildArgs(args, opts);
  const env = buildEnv(opts);
  const okCodes = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = spawn('git', argv, {
      cwd: opts.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 10 * 60_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) {
        child.kill('SIGKILL');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('error', (e) => reject(new GitError(`git ${args[0]}: ${e.message}`, null, '')));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = redact(Buffer.concat(err).toString('utf8'), opts);
      if (code !== null && okCodes.includes(code)) {
        resolve({ code, stdout, stderr });
        return;
      }
      const why = signal ? `killed by ${signal}` : `exit ${code}`;
      reject(new GitError(`git ${args[0]} failed (${why}): ${stderr.trim()}`, code, stderr));
    });
  });
}

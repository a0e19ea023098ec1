/**
 * What the Gemini CLI and OpenCode runners share: running a CLI with the prompt on stdin while a
 * stream parser turns its stdout into Forge events, the proxy environment for the egress allowlist,
 * files in the per-task home written from the host (owned like the home, so a container user can
 * still write next to them), and failure wording.
 */
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import type { ExecResult, SandboxSession } from '../sandbox/types.js';
import { appendStderr, describeExecEnd, STDERR_TAIL_LINES, Tail } from './command.js';
import type { AgentConclusion, AgentEvent, AgentRunContext, ModelAccess } from './types.js';

export interface LineParser {
  push(line: string): AgentEvent[];
  end(): AgentEvent[];
}

export interface CliRun {
  exec: ExecResult;
  /** The last non-empty stderr lines, for failure reasons. */
  stderr: string[];
}

/** Runs argv in the sandbox with `stdin` (no size limit, unlike argv and env) and parses stdout. */
export async function runCli(
  ctx: AgentRunContext,
  spec: { argv: string[]; env: Record<string, string>; stdin: string; parser: LineParser },
): Promise<CliRun> {
  const stderr = new Tail(STDERR_TAIL_LINES);
  const exec = await ctx.session.exec(spec.argv, {
    env: spec.env,
    stdin: spec.stdin,
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs,
    ...(ctx.idleTimeoutMs !== undefined ? { idleTimeoutMs: ctx.idleTimeoutMs } : {}),
    onLine: (stream, line) => {
      ctx.onLine(stream, line);
      if (stream === 'stderr') stderr.push(line);
      else for (const event of spec.parser.push(line)) ctx.onEvent(event);
    },
  });
  for (const event of spec.parser.end()) ctx.onEvent(event);
  return { exec, stderr: stderr.lines };
}

/**
 * HTTP(S)_PROXY in both spellings for the egress allowlist; the model gateway's hosts go into
 * NO_PROXY so model traffic stays direct.
 */
export function proxyEnv(model: ModelAccess | undefined): Record<string, string> {
  if (!model?.proxyUrl) return {};
  const direct = new Set(['localhost', '127.0.0.1', '::1']);
  for (const url of [model.anthropicBaseUrl, model.openaiBaseUrl, model.geminiBaseUrl]) {
    if (URL.canParse(url)) direct.add(new URL(url).hostname.replace(/^\[(.*)\]$/, '$1'));
  }
  const noProxy = [...direct].join(',');
  return {
    HTTPS_PROXY: model.proxyUrl,
    HTTP_PROXY: model.proxyUrl,
    https_proxy: model.proxyUrl,
    http_proxy: model.proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

/** Host path of `rel` inside the session's home; throws for paths that leave it. */
export function homePath(session: SandboxSession, rel: string): string {
  const target = join(session.hostHomeDir, rel);
  const inside = relative(session.hostHomeDir, target);
  if (!inside || inside.startsWith('..') || inside.startsWith(sep))
    throw new TypeError(`not a path inside the home: ${rel}`);
  return target;
}

/** Path of `rel` inside the home as the command sees it. */
export function sandboxHomePath(session: SandboxSession, rel: string): string {
  return posix.join(session.homeDir, rel.split(sep).join('/'));
}

/** Reads a file under the home; undefined when it does not exist. */
export async function readHomeFile(session: SandboxSession, rel: string): Promise<string | undefined> {
  try {
    return await readFile(homePath(session, rel), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes a file under the home from the host. Directories it creates and the file take the home's
 * owner: in a container the CLI runs as another uid than the worker and keeps state next to its
 * configuration.
 */
export async function writeHomeFile(session: SandboxSession, rel: string, content: string): Promise<string> {
  const target = homePath(session, rel);
  await ensureHomeDir(session, relative(session.hostHomeDir, dirname(target)));
  await writeFile(target, content, { mode: 0o644 });
  await ownLikeHome(session, [target]);
  return target;
}

/** Creates `rel` (and its parents) under the home, owned like the home. */
export async function ensureHomeDir(session: SandboxSession, rel: string): Promise<string> {
  const root = session.hostHomeDir;
  await mkdir(root, { recursive: true });
  if (!rel) return root;
  const target = homePath(session, rel);
  const chain: string[] = [];
  for (let dir = target; dir !== root; dir = dirname(dir)) chain.unshift(dir);
  const fresh: string[] = [];
  for (const dir of chain) if (await makeDir(dir)) fresh.push(dir);
  await ownLikeHome(session, fresh);
  return target;
}

/** When the worker runs as root and the home belongs to the sandbox's user, hand `paths` over. */
async function ownLikeHome(session: SandboxSession, paths: string[]): Promise<void> {
  if (process.getuid?.() !== 0 || paths.length === 0) return;
  const owner = await stat(session.hostHomeDir);
  if (owner.uid === 0 && owner.gid === 0) return;
  for (const path of paths) await chown(path, owner.uid, owner.gid);
}

/** mkdir of one level; false when it already existed. */
async function makeDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Model names reach argv: no leading dash, no spaces. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

/** Session ids travel on argv: a strict shape keeps them from ever reading as an option. */
export const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * How a CLI run ended, in words the user can act on: the sandbox's verdict (cancelled, timed out,
 * out of memory) first, then the error the CLI itself reported, then a bare non-zero exit with the
 * last stderr lines.
 */
export function concludeRun(
  run: CliRun,
  ctx: Pick<AgentRunContext, 'timeoutMs' | 'idleTimeoutMs'>,
  subject: string,
  cliError: string | undefined,
): { conclusion: AgentConclusion; error?: string } {
  const outcome = describeExecEnd(run.exec, ctx, subject);
  if (run.exec.end !== 'exited') return outcome;
  if (outcome.conclusion === 'success' && !cliError) return outcome;
  if (cliError) return { conclusion: 'failure', error: cliError };
  const error = appendStderr(outcome.error, run.stderr);
  return { conclusion: 'failure', ...(error ? { error } : {}) };
}

/** "<subject> failed: <reason>" (one paragraph, clipped) plus an optional hint. */
export function cliFailure(subject: string, reason: string, hint?: string): string {
  const text = reason.replace(/\s+/g, ' ').trim();
  const clipped = text.length > 600 ? `${text.slice(0, 600)}…` : text;
  return hint ? `${subject} failed: ${clipped}\n\n${hint}` : `${subject} failed: ${clipped}`;
}

/** An HTTP status mentioned in a CLI's error text ("status: 429", `"code": 401`, "HTTP 503"). */
export function statusIn(text: string): number | undefined {
  const found = /(?:status(?:Code)?["']?\s*[:=]?\s*|"code"\s*:\s*|HTTP\s+)([45]\d\d)\b/i.exec(text);
  return found ? Number(found[1]) : undefined;
}

/** What to do about a model API status, as seen through Forge's gateway. */
export function modelStatusHint(status: number | undefined, keySetting: string): string | undefined {
  if (status === undefined) return undefined;
  if (status === 401 || status === 403) {
    return `The model API refused the credentials (HTTP ${status}): check ${keySetting}, the key Forge's model gateway uses for this provider.`;
  }
  if (status === 402 || status === 429) {
    return `The model API refused the request (HTTP ${status}): a rate limit, the provider account's quota, or this task's budget was reached.`;
  }
  if (status === 404)
    return "The model API answered 404: check the model name (`--model`) and the gateway's upstream base URL.";
  if (status === 400)
    return 'The model API rejected the request (HTTP 400): the model may not exist or not support this CLI.';
  if (status >= 500)
    return `The model API failed (HTTP ${status}); this is usually temporary, try again later.`;
  return undefined;
}

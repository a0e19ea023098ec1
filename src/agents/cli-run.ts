/**
 * Plumbing shared by the runners of real agent CLIs (Claude Code, Codex, …): the proxy environment
 * derived from the turn's model access, running the CLI with the prompt on stdin while its stdout
 * lines go through the CLI's stream parser, configuration files in the per-task home, and the
 * wording of failures.
 */
import { chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ExecResult } from '../sandbox/types.js';
import { appendStderr, describeExecEnd, STDERR_TAIL_LINES, Tail } from './command.js';
import type {
  AgentConclusion,
  AgentEvent,
  AgentResult,
  AgentRunContext,
  ModelAccess,
  Usage,
} from './types.js';

/** A pure parser of one CLI's JSON event stream, fed one stdout line at a time. */
export interface StreamParser {
  push(line: string): AgentEvent[];
}

export interface CliExec {
  argv: string[];
  env: Record<string, string>;
  /** The prompt: stdin has no size limit, unlike argv and the environment (~128 KiB). */
  stdin: string;
  parser: StreamParser;
}

export interface CliExecResult {
  exec: ExecResult;
  /** The last non-empty stderr lines, for failure reasons. */
  stderr: string[];
}

export async function execCli(spec: CliExec, ctx: AgentRunContext): Promise<CliExecResult> {
  const stderr = new Tail(STDERR_TAIL_LINES);
  const exec = await ctx.session.exec(spec.argv, {
    env: spec.env,
    stdin: spec.stdin,
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs,
    idleTimeoutMs: ctx.idleTimeoutMs,
    onLine: (stream, line) => {
      ctx.onLine(stream, line);
      if (stream === 'stderr') stderr.push(line);
      else for (const event of spec.parser.push(line)) ctx.onEvent(event);
    },
  });
  return { exec, stderr: stderr.lines };
}

/** Proxy variables for the egress allowlist (shared with setup commands and the command agent). */
export { proxyEnvironment as proxyEnv } from '../gateway/env.js';

/**
 * Writes a file under the session's home (e.g. `.codex/config.toml`) from the host. Created
 * directories and the file take the home directory's owner: in a container the agent runs as
 * another uid than the worker and must still be able to write next to its configuration.
 */
export async function writeHomeFile(
  session: AgentRunContext['session'],
  path: string,
  content: string,
): Promise<string> {
  const root = session.hostHomeDir;
  const target = join(root, path);
  const rel = relative(root, target);
  if (!rel || rel.startsWith('..') || rel.startsWith(sep))
    throw new TypeError(`not a path inside the home: ${path}`);
  await mkdir(root, { recursive: true });
  const owner = await stat(root);
  const created: string[] = [];
  for (let dir = dirname(target); dir !== root; dir = dirname(dir)) created.unshift(dir);
  for (const dir of created) await mkdir(dir, { recursive: true });
  await writeFile(target, content, { mode: 0o644 });
  const myUid = process.getuid?.();
  if (myUid === 0 && (owner.uid !== 0 || owner.gid !== 0)) {
    for (const entry of [...created, target]) await chown(entry, owner.uid, owner.gid);
  }
  return target;
}

/** Guards positional ids (session ids come back from a CLI's output and are kept on the task). */
export const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * How a CLI run ended, in words the user can act on. Cancellation, timeouts and OOM come from the
 * sandbox and win; then an error the CLI itself reported (a failed API call, an error result); then
 * a non-zero exit, explained with the last lines of stderr.
 */
export function concludeCli(
  exec: ExecResult,
  ctx: Pick<AgentRunContext, 'timeoutMs' | 'idleTimeoutMs'>,
  subject: string,
  cliError: string | undefined,
  stderr: readonly string[],
): { conclusion: AgentConclusion; error?: string } {
  const outcome = describeExecEnd(exec, ctx, subject);
  if (exec.end !== 'exited') return outcome;
  if (cliError) return { conclusion: 'failure', error: cliError };
  if (outcome.conclusion === 'failure') {
    const error = appendStderr(outcome.error, stderr);
    return { conclusion: 'failure', ...(error ? { error } : {}) };
  }
  return outcome;
}

/**
 * A hint for an HTTP status the model API (through Forge's gateway) answered with. `keyName` is the
 * operator setting holding the provider key the gateway uses.
 */
export function explainModelStatus(status: number | undefined, keyName: string): string | undefined {
  if (status === undefined) return undefined;
  if (status === 401 || status === 403) {
    return `The model API refused the credentials (HTTP ${status}): check ${keyName}, the key Forge's model gateway uses for this provider.`;
  }
  if (status === 402 || status === 429) {
    return `The model API refused the request (HTTP ${status}): a rate limit, the provider account's quota, or this task's budget was reached.`;
  }
  if (status === 404)
    return "The model API answered 404: check the model name and the gateway's upstream base URL.";
  if (status === 400)
    return 'The model API rejected the request (HTTP 400): the model may not exist or not support this CLI.';
  if (status >= 500)
    return `The model API failed (HTTP ${status}); this is usually temporary, try again later.`;
  return undefined;
}

/** "Claude Code failed: <reason>" plus an optional hint, as one paragraph. */
export function cliFailure(subject: string, reason: string, hint?: string): string {
  const text = reason.trim().replace(/\s+/g, ' ');
  const clipped = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  return hint ? `${subject} failed: ${clipped}\n\n${hint}` : `${subject} failed: ${clipped}`;
}

/** The AgentResult of a CLI run: what its stream told (summary, session, usage) and how it ended. */
export function cliResult(
  outcome: { summary?: string; sessionId?: string; usage?: Usage },
  end: { conclusion: AgentConclusion; error?: string },
  exec: ExecResult,
): AgentResult {
  return {
    conclusion: end.conclusion,
    ...(outcome.summary ? { summary: outcome.summary } : {}),
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
    ...(outcome.usage ? { usage: outcome.usage } : {}),
    ...(end.error ? { error: end.error } : {}),
    exitCode: exec.exitCode,
  };
}

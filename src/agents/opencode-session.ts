/**
 * Resuming OpenCode sessions (1.18). `opencode run --session <id>` continues a session in the
 * directory it was created in, not in the current one: when the checkout moved (the local sandbox
 * clones each turn to a new path) it would edit the old path, and `run` never sees the session go
 * idle and hangs. So the runner remembers each session's directory in the per-task home; when it
 * differs from this turn's checkout, the session is exported, its directory rewritten and imported
 * back (`opencode export` / `opencode import`, same id) before resuming. The Docker sandbox mounts
 * the checkout at a fixed path, so there this costs nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { SandboxSession } from '../sandbox/types.js';
import { readHomeFile, writeHomeFile } from './cli-home.js';
import { scratchFile } from './prompt-file.js';
import { isRecord } from './stream-lines.js';
import type { AgentRunContext } from './types.js';

/** Forge's own record of where each OpenCode session of the task lives. */
export const OPENCODE_SESSIONS_FILE = '.forge/opencode-sessions.json';
const EXPORT_FILE = 'opencode-session.json';
const MOVE_TIMEOUT_MS = 120_000;

export type OpenCodeResume =
  | { kind: 'resume'; moved: boolean }
  /** `why` completes "The previous OpenCode session (id) …; starting a new one." */
  | { kind: 'fresh'; why: string };

export async function prepareOpenCodeResume(
  ctx: AgentRunContext,
  options: { executable: string; sessionId: string; env: Record<string, string> },
): Promise<OpenCodeResume> {
  const { session } = ctx;
  const known = await sessionDirectories(session);
  if (known[options.sessionId] === session.workdir) return { kind: 'resume', moved: false };

  const file = scratchFile(session, EXPORT_FILE);
  const exported = await step(ctx, options.env, [
    'sh',
    '-c',
    'exec "$0" export "$1" > "$2"',
    options.executable,
    options.sessionId,
    file.path,
  ]);
  const data = exported ? await readJson(file.hostPath) : undefined;
  const info = isRecord(data) && isRecord(data.info) ? data.info : undefined;
  if (!info || info.id !== options.sessionId) {
    return { kind: 'fresh', why: "is no longer in the task's home" };
  }
  if (info.directory === session.workdir) return { kind: 'resume', moved: false };
  info.directory = session.workdir;
  await writeFile(file.hostPath, JSON.stringify(data));
  if (!(await step(ctx, options.env, [options.executable, 'import', file.path]))) {
    return { kind: 'fresh', why: "could not be moved to this turn's checkout" };
  }
  return { kind: 'resume', moved: true };
}

/** Records that `sessionId` now lives in this turn's checkout. */
export async function rememberOpenCodeSession(session: SandboxSession, sessionId: string): Promise<void> {
  const known = await sessionDirectories(session);
  if (known[sessionId] === session.workdir) return;
  known[sessionId] = session.workdir;
  await writeHomeFile(session, OPENCODE_SESSIONS_FILE, `${JSON.stringify(known, null, 2)}\n`);
}

async function sessionDirectories(session: SandboxSession): Promise<Record<string, string>> {
  const text = await readHomeFile(session, OPENCODE_SESSIONS_FILE);
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    if (!isRecord(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch {
    return {};
  }
}

async function step(ctx: AgentRunContext, env: Record<string, string>, argv: string[]): Promise<boolean> {
  const result = await ctx.session.exec(argv, {
    env,
    signal: ctx.signal,
    timeoutMs: Math.min(ctx.timeoutMs, MOVE_TIMEOUT_MS),
    onLine: (stream, line) => ctx.onLine(stream, line),
  });
  return result.end === 'exited' && result.exitCode === 0;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

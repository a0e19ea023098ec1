/**
 * Resuming OpenCode sessions (1.18). `opencode run --session <id>` continues a session in the
 * directory it was created in, not in the current one: when the checkout moved (the local sandbox
 * clones each turn to a new path) it would edit the old path, and `run` never sees the session go
 * idle and hangs. So the runner remembers each session's directory in the per-task home; when it
 * differs from this turn's checkout, the session is exported, its directory rewritten and imported
 * back (`opencode export` / `opencode import`, same id) before resuming. The Docker sandbox mounts
 * the checkout at a fixed path, so there this costs nothing.
 */
import type { SandboxSession } from '../sandbox/types.js';
import { readHomeFile, writeHomeFile } from './cli-home.js';
import { bestEffort, refusalText } from './file-notes.js';
import { scratchDir, scratchFile } from './prompt-file.js';
import { isRecord } from './stream-lines.js';
import type { AgentRunContext } from './types.js';

/** Forge's own record of where each OpenCode session of the task lives. */
export const OPENCODE_SESSIONS_FILE = '.forge/opencode-sessions.json';
const EXPORT_FILE = 'opencode-session.json';
const MOVE_TIMEOUT_MS = 120_000;
/** An export holds the whole conversation, tool results included. */
export const OPENCODE_EXPORT_MAX_BYTES = 64 * 1024 * 1024;

export type OpenCodeResume =
  | { kind: 'resume'; moved: boolean }
  /** `why` completes "The previous OpenCode session (id) …; starting a new one." */
  | { kind: 'fresh'; why: string };

export async function prepareOpenCodeResume(
  ctx: AgentRunContext,
  options: { executable: string; sessionId: string; env: Record<string, string> },
): Promise<OpenCodeResume> {
  const { session } = ctx;
  const known = await sessionDirectories(session, ctx);
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
  let data: unknown;
  try {
    data = exported ? await readJson(session, EXPORT_FILE) : undefined;
  } catch (error) {
    return { kind: 'fresh', why: `could not be read back from its export: ${refusalText(error)}` };
  }
  const info = isRecord(data) && isRecord(data.info) ? data.info : undefined;
  if (!info || info.id !== options.sessionId) {
    return { kind: 'fresh', why: "is no longer in the task's home" };
  }
  if (info.directory === session.workdir) return { kind: 'resume', moved: false };
  info.directory = session.workdir;
  try {
    await scratchDir(session).write(EXPORT_FILE, JSON.stringify(data));
  } catch (error) {
    return { kind: 'fresh', why: `could not be moved to this turn's checkout: ${refusalText(error)}` };
  }
  if (!(await step(ctx, options.env, [options.executable, 'import', file.path]))) {
    return { kind: 'fresh', why: "could not be moved to this turn's checkout" };
  }
  return { kind: 'resume', moved: true };
}

/**
 * Records that `sessionId` now lives in this turn's checkout. Never throws (the agent has run): a
 * record Forge cannot use is skipped, and the log says why when `ctx` is given.
 */
export async function rememberOpenCodeSession(
  session: SandboxSession,
  sessionId: string,
  ctx: Pick<AgentRunContext, 'onLine'> = { onLine: () => undefined },
): Promise<void> {
  const known = await sessionDirectories(session, ctx);
  if (known[sessionId] === session.workdir) return;
  known[sessionId] = session.workdir;
  await bestEffort<unknown>(ctx, 'did not record where the OpenCode session lives', undefined, () =>
    writeHomeFile(session, OPENCODE_SESSIONS_FILE, `${JSON.stringify(known, null, 2)}\n`),
  );
}

async function sessionDirectories(
  session: SandboxSession,
  ctx: Pick<AgentRunContext, 'onLine'>,
): Promise<Record<string, string>> {
  const text = await bestEffort(ctx, 'did not read where OpenCode sessions live', undefined, () =>
    readHomeFile(session, OPENCODE_SESSIONS_FILE),
  );
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

/** The export's JSON; undefined when missing or not JSON. Throws for a link, a FIFO, a huge file. */
async function readJson(session: SandboxSession, name: string): Promise<unknown> {
  const text = await scratchDir(session).read(name, { maxBytes: OPENCODE_EXPORT_MAX_BYTES });
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

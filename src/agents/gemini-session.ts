/**
 * Resuming Gemini CLI sessions (0.61). Sessions live in the per-task home under
 * `.gemini/tmp/<project>/chats/session-<time>-<id8>.jsonl`, per project: `<project>` is the short id
 * `.gemini/projects.json` gives the checkout's path. So:
 *
 * - same checkout path as the session's (the Docker sandbox mounts the checkout at a fixed path):
 *   `--resume <id>`;
 * - another path (the local sandbox clones each turn elsewhere): `--resume` would not find it, so the
 *   session is imported with `--session-file <file>` (Gemini CLI copies it under a new id);
 * - no file at all (a wiped home): a fresh session, said so in a message.
 *
 * Before either, the log is repaired: 0.61 keeps each tool result twice (in the model message's
 * `toolCalls[].result` and as a user message of its own) and replays both on resume, so the first
 * request sends two function responses per call, which the Gemini API rejects with 400 ("the number
 * of function response parts is equal to the number of function call parts"; gemini-cli#29365).
 * Every resume also saves the doubled history back. The repair appends one `$set` of the messages
 * with the extra copies dropped — the same kind of record the CLI writes itself.
 */
import { posix } from 'node:path';
import type { SandboxSession } from '../sandbox/types.js';
import { homeDir, readHomeFile, sandboxHomePath } from './cli-home.js';
import { refusalText } from './file-notes.js';
import { isRecord, type JsonRecord } from './stream-lines.js';

/** Session logs hold whole tool results; a bigger one is not read (the turn starts a new session). */
export const GEMINI_SESSION_MAX_BYTES = 64 * 1024 * 1024;

type HomeSession = Pick<SandboxSession, 'homeDir' | 'hostHomeDir'>;

export interface GeminiSessionFile {
  /** The session log's path relative to the home. */
  rel: string;
  /** The same file as the CLI sees it. */
  path: string;
  /** The project directory (short id) it is filed under. */
  project: string;
}

export type GeminiResume =
  | { kind: 'resume'; args: string[]; repaired: boolean }
  | { kind: 'import'; args: string[]; repaired: boolean }
  /** `why` completes "The previous Gemini CLI session (id) …; starting a new one." */
  | { kind: 'fresh'; args: []; why: string };

/** Decides how to continue `sessionId` in this session's checkout, repairing its log first. */
export async function prepareGeminiResume(session: SandboxSession, sessionId: string): Promise<GeminiResume> {
  const file = await findGeminiSession(session, sessionId);
  if (!file) {
    return { kind: 'fresh', args: [], why: "is no longer in the task's home" };
  }
  if ('refused' in file) {
    return { kind: 'fresh', args: [], why: `could not be read: ${file.refused}` };
  }
  const repaired = await repairSessionFile(session, file.rel);
  const current = await projectOf(session, session.workdir);
  if (current === file.project) return { kind: 'resume', args: ['--resume', sessionId], repaired };
  return { kind: 'import', args: ['--session-file', file.path], repaired };
}

/**
 * The session log of `sessionId` under the home, if any; `refused` says why a candidate (or the
 * directories holding them) was not read when no readable one was found.
 */
export async function findGeminiSession(
  session: HomeSession,
  sessionId: string,
): Promise<GeminiSessionFile | { refused: string } | undefined> {
  const home = homeDir(session);
  const suffixes = [`-${sessionId.slice(0, 8)}.jsonl`, `-${sessionId.slice(0, 8)}.json`];
  let refused: string | undefined;
  const list = (rel: string) =>
    home.list(rel).catch((error: unknown) => {
      refused ??= refusalText(error);
      return [];
    });
  for (const project of await list('.gemini/tmp')) {
    if (project.type !== 'directory') continue;
    const chats = posix.join('.gemini/tmp', project.name, 'chats');
    const names = (await list(chats))
      .map((entry) => entry.name)
      .filter((n) => n.startsWith('session-') && suffixes.some((s) => n.endsWith(s)))
      .sort();
    for (const name of names) {
      const rel = posix.join(chats, name);
      const text = await home.read(rel, { maxBytes: GEMINI_SESSION_MAX_BYTES }).catch((error: unknown) => {
        refused ??= refusalText(error);
        return undefined;
      });
      if (text !== undefined && loadSessionLog(text).sessionId === sessionId) {
        return { rel, path: sandboxHomePath(session, rel), project: project.name };
      }
    }
  }
  return refused ? { refused } : undefined;
}

/** The project short id Gemini CLI has registered for `dir` (as the CLI sees it), if any. */
export async function projectOf(session: HomeSession, dir: string): Promise<string | undefined> {
  try {
    const text = await readHomeFile(session, '.gemini/projects.json');
    if (!text) return undefined;
    const registry: unknown = JSON.parse(text);
    const projects = isRecord(registry) && isRecord(registry.projects) ? registry.projects : {};
    const id = projects[posix.normalize(dir).replace(/(.)\/$/, '$1')];
    return typeof id === 'string' ? id : undefined;
  } catch {
    // Garbage, a link or a FIFO: the session is imported by file instead of resumed by id.
    return undefined;
  }
}

/**
 * Appends the repairing record when the log (`rel` under the home) would replay tool results
 * twice; true if it did. Best effort: a log the agent swapped meanwhile is left alone.
 */
export async function repairSessionFile(session: HomeSession, rel: string): Promise<boolean> {
  const home = homeDir(session);
  try {
    const text = await home.read(rel, { maxBytes: GEMINI_SESSION_MAX_BYTES });
    const record = text === undefined ? undefined : repairRecord(text);
    if (!record) return false;
    return await home.append(rel, `${text!.endsWith('\n') || !text ? '' : '\n'}${record}\n`);
  } catch {
    return false;
  }
}

/** The `$set` line that drops replayed duplicates, or undefined when the log is clean. */
export function repairRecord(text: string): string | undefined {
  const { messages } = loadSessionLog(text);
  const cleaned = withoutDuplicateToolResponses(messages);
  return cleaned ? JSON.stringify({ $set: { messages: cleaned } }) : undefined;
}

/**
 * The messages a session log holds, read the way Gemini CLI reads it: records with an `id` add or
 * replace a message, `$set` updates metadata (a `messages` array replaces them all), `$rewindTo`
 * drops a message and everything after it; other lines carry metadata.
 */
export function loadSessionLog(text: string): { sessionId?: string; messages: JsonRecord[] } {
  const messages = new Map<string, JsonRecord>();
  let sessionId: string | undefined;
  const setAll = (list: unknown) => {
    if (!Array.isArray(list)) return;
    messages.clear();
    for (const m of list) if (isRecord(m) && typeof m.id === 'string') messages.set(m.id, m);
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isRecord(record)) continue;
    if (typeof record.$rewindTo === 'string') {
      const ids = [...messages.keys()];
      const at = ids.indexOf(record.$rewindTo);
      if (at === -1) messages.clear();
      else for (const id of ids.slice(at)) messages.delete(id);
    } else if (typeof record.id === 'string') {
      messages.set(record.id, record);
    } else if (isRecord(record.$set)) {
      if (typeof record.$set.sessionId === 'string') sessionId = record.$set.sessionId;
      setAll(record.$set.messages);
    } else if (typeof record.sessionId === 'string' && typeof record.projectHash === 'string') {
      sessionId = record.sessionId;
      if (Array.isArray(record.messages)) {
        for (const m of record.messages) if (isRecord(m) && typeof m.id === 'string') messages.set(m.id, m);
      }
    }
  }
  return { ...(sessionId ? { sessionId } : {}), messages: [...messages.values()] };
}

/**
 * Drops function responses that would reach the model a second time: within one tool round (from a
 * model message to the next), a response whose call id was already answered — by the model
 * message's recorded `toolCalls[].result` or by an earlier user message. Messages left without
 * parts go. Returns undefined when nothing had to go.
 */
export function withoutDuplicateToolResponses(messages: JsonRecord[]): JsonRecord[] | undefined {
  let answered = new Set<string>();
  let changed = false;
  const out: JsonRecord[] = [];
  for (const message of messages) {
    if (message.type === 'gemini') {
      answered = new Set();
      const calls = Array.isArray(message.toolCalls) ? message.toolCalls : [];
      for (const call of calls) {
        if (
          isRecord(call) &&
          typeof call.id === 'string' &&
          call.result !== undefined &&
          call.result !== null
        ) {
          answered.add(call.id);
        }
      }
      out.push(message);
      continue;
    }
    if (message.type !== 'user' || !Array.isArray(message.content)) {
      out.push(message);
      continue;
    }
    const parts = message.content.filter((part: unknown) => {
      const id = isRecord(part) && isRecord(part.functionResponse) ? part.functionResponse.id : undefined;
      if (typeof id !== 'string') return true;
      if (answered.has(id)) return false;
      answered.add(id);
      return true;
    });
    if (parts.length === message.content.length) {
      out.push(message);
      continue;
    }
    changed = true;
    if (parts.length) out.push({ ...message, content: parts });
  }
  return changed ? out : undefined;
}

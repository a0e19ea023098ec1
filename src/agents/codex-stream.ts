/**
 * A pure parser of `codex exec --json` output (one JSON object per line) into Forge's AgentEvents:
 *
 *   {"type":"thread.started","thread_id"}                         → session
 *   {"type":"item.started"|"item.completed","item":{…}}           → tool (command_execution,
 *        file_change, mcp_tool_call, web_search) / message (agent_message, when completed)
 *   {"type":"turn.completed","usage":{input_tokens,output_tokens}} → usage
 *   {"type":"turn.failed","error":{"message"}} / {"type":"error"}  → (the run's error)
 *
 * The usage Codex reports is the session's running total, also on `exec resume`: the run's own
 * usage is that minus the total at the end of the previous run (`usageBefore`).
 *
 * The summary is the last agent message. Unknown events and unparseable lines are skipped; a line
 * the sandbox cut at its line cap (a long answer, a command's large output) is read as far as it
 * goes. A tool is reported once per item id (at start when Codex announces it, else at the end).
 */
import {
  clipDetail,
  count,
  isRecord,
  JsonLineCounter,
  type JsonRecord,
  parseStream,
  relativeTo,
  type StreamParser,
  statusIn,
  str,
} from './stream-lines.js';
import type { AgentEvent, Usage } from './types.js';

export interface CodexOutcome {
  sessionId?: string;
  summary?: string;
  /** This run's tokens. */
  usage?: Usage;
  /** The session's running total as Codex reported it (the next run's `usageBefore`). */
  sessionUsage?: Usage;
  /** A turn completed (Codex finished its work). */
  finished: boolean;
  /** The error that failed the turn, in Codex's words (unwrapped from a JSON error body). */
  error?: string;
  /** HTTP status named in the error ("unexpected status 401 Unauthorized: …"). */
  apiErrorStatus?: number;
  /** Non-fatal notices Codex reported as error items (e.g. unknown model metadata). */
  warnings: string[];
  /** Lines that were not JSON objects (foreign output). */
  skippedLines: number;
  /** Lines cut at the sandbox's line cap, read as far as they went. */
  truncatedLines: number;
}

export interface CodexStreamOptions {
  /** The checkout as Codex sees it: file paths in tool details are shown relative to it. */
  cwd?: string;
  /** The resumed session's total at the end of its previous run. */
  usageBefore?: Usage;
}

export class CodexStreamParser implements StreamParser<CodexOutcome> {
  readonly #cwd: string | undefined;
  readonly #usageBefore: Usage;
  #sessionUsage: Usage | undefined;
  #sessionId: string | undefined;
  #summary: string | undefined;
  #finished = false;
  #error: string | undefined;
  #lastStreamError: string | undefined;
  readonly #warnings: string[] = [];
  readonly #reported = new Set<string>();
  readonly #lines = new JsonLineCounter();

  constructor(options: CodexStreamOptions = {}) {
    this.#cwd = options.cwd;
    this.#usageBefore = options.usageBefore ?? { inputTokens: 0, outputTokens: 0 };
  }

  push(line: string): AgentEvent[] {
    const event = this.#lines.read(line)?.event;
    if (!event) return [];
    switch (event.type) {
      case 'thread.started': {
        const id = str(event.thread_id);
        if (!id || id === this.#sessionId) return [];
        this.#sessionId = id;
        return [{ type: 'session', sessionId: id }];
      }
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return isRecord(event.item) ? this.#item(event.item, event.type === 'item.completed') : [];
      case 'turn.completed':
        return this.#turnCompleted(event);
      case 'turn.failed':
        this.#error =
          unwrapError(isRecord(event.error) ? str(event.error.message) : undefined) ?? 'the turn failed';
        return [];
      case 'error':
        // Retries ("Reconnecting... 2/5 (…)") and the final stream error; turn.failed follows a fatal one.
        this.#lastStreamError = unwrapError(str(event.message));
        return [];
      default:
        return [];
    }
  }

  /** turn.completed closes the stream: nothing is pending at its end. */
  end(): AgentEvent[] {
    return [];
  }

  outcome(): CodexOutcome {
    const error = this.#error ?? (this.#finished ? undefined : this.#lastStreamError);
    const status = error ? statusIn(error) : undefined;
    return {
      finished: this.#finished,
      warnings: [...this.#warnings],
      skippedLines: this.#lines.skipped,
      truncatedLines: this.#lines.truncated,
      ...(this.#sessionId ? { sessionId: this.#sessionId } : {}),
      ...(this.#summary ? { summary: this.#summary } : {}),
      ...(this.#sessionUsage ? { usage: this.#runUsage(), sessionUsage: { ...this.#sessionUsage } } : {}),
      ...(error ? { error } : {}),
      ...(status !== undefined ? { apiErrorStatus: status } : {}),
    };
  }

  #item(item: JsonRecord, completed: boolean): AgentEvent[] {
    const id = str(item.id) ?? '';
    switch (item.type) {
      case 'agent_message': {
        const text = str(item.text)?.trim();
        if (!completed || !text) return [];
        this.#summary = text;
        return [{ type: 'message', text }];
      }
      case 'error': {
        const message = str(item.message);
        if (completed && message) this.#warnings.push(message);
        return [];
      }
      case 'command_execution':
      case 'file_change':
      case 'mcp_tool_call':
      case 'web_search': {
        if (this.#reported.has(id)) return [];
        const tool = describeTool(item, this.#cwd);
        if (!tool) return [];
        this.#reported.add(id);
        return [tool];
      }
      default:
        return [];
    }
  }

  #turnCompleted(event: JsonRecord): AgentEvent[] {
    this.#finished = true;
    const events: AgentEvent[] = [];
    const u = event.usage;
    if (isRecord(u)) {
      // OpenAI counts cached input inside input_tokens, reasoning inside output_tokens.
      this.#sessionUsage = { inputTokens: count(u.input_tokens), outputTokens: count(u.output_tokens) };
      events.push({ type: 'usage', usage: this.#runUsage() });
    }
    if (this.#summary) events.push({ type: 'summary', text: this.#summary });
    return events;
  }

  #runUsage(): Usage {
    const total = this.#sessionUsage ?? { inputTokens: 0, outputTokens: 0 };
    // A total below the baseline means the baseline is stale (another session, a wiped home).
    const stale =
      total.inputTokens < this.#usageBefore.inputTokens ||
      total.outputTokens < this.#usageBefore.outputTokens;
    return stale
      ? { ...total }
      : {
          inputTokens: total.inputTokens - this.#usageBefore.inputTokens,
          outputTokens: total.outputTokens - this.#usageBefore.outputTokens,
        };
  }
}

/** Parses a whole recorded stream (tests, fixtures). */
export function parseCodexStream(
  lines: Iterable<string>,
  options: CodexStreamOptions = {},
): { events: AgentEvent[]; outcome: CodexOutcome } {
  return parseStream(new CodexStreamParser(options), lines);
}

function describeTool(item: JsonRecord, cwd: string | undefined): AgentEvent | undefined {
  switch (item.type) {
    case 'command_execution': {
      const command = str(item.command);
      return command
        ? { type: 'tool', name: 'shell', detail: clipDetail(unwrapShell(command)) }
        : { type: 'tool', name: 'shell' };
    }
    case 'file_change': {
      const paths = Array.isArray(item.changes)
        ? item.changes
            .map((c) => (isRecord(c) ? str(c.path) : undefined))
            .filter((p): p is string => Boolean(p))
            .map((p) => relativeTo(p, cwd))
        : [];
      return paths.length
        ? { type: 'tool', name: 'edit', detail: clipDetail(paths.join(', ')) }
        : { type: 'tool', name: 'edit' };
    }
    case 'mcp_tool_call': {
      const name = [str(item.server), str(item.tool)].filter(Boolean).join('/');
      return { type: 'tool', name: name ? `mcp:${name}` : 'mcp' };
    }
    case 'web_search': {
      const query = str(item.query);
      return query
        ? { type: 'tool', name: 'web_search', detail: clipDetail(query) }
        : { type: 'tool', name: 'web_search' };
    }
    default:
      return undefined;
  }
}

/** `/bin/bash -lc 'npm test'` → `npm test` (Codex reports the shell wrapper it ran). */
export function unwrapShell(command: string): string {
  const m = /^(?:\S*\/)?(?:bash|sh|zsh) -l?c (.+)$/s.exec(command.trim());
  if (!m?.[1]) return command;
  const arg = m[1];
  if (arg.length >= 2 && arg.startsWith("'") && arg.endsWith("'"))
    return arg.slice(1, -1).replaceAll("'\\''", "'");
  if (arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"'))
    return arg.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return arg;
}

/** Codex passes provider error bodies through as text: `{"error":{"message":"…"}}` → `…`. */
function unwrapError(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const text = message.trim();
  if (text.startsWith('{')) {
    try {
      const body = JSON.parse(text) as unknown;
      if (isRecord(body)) {
        const inner = isRecord(body.error) ? str(body.error.message) : str(body.message);
        if (inner) return inner;
      }
    } catch {
      // not JSON after all
    }
  }
  return text;
}

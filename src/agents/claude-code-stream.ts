/**
 * A pure parser of `claude -p --output-format stream-json --verbose` output (one JSON object per
 * line) into Forge's AgentEvents:
 *
 *   {"type":"system","subtype":"init","session_id",…,"cwd"}      → session
 *   {"type":"assistant","message":{"content":[text | tool_use]}} → message / tool
 *   {"type":"system","subtype":"api_retry","error_status",…}     → (remembered for the error)
 *   {"type":"result","is_error","result","usage","total_cost_usd","model_usage_since_last_result",…}
 *                                                                 → usage, summary
 *
 * Unknown events and unparseable lines are skipped. A line the sandbox cut at its line cap (a Write
 * of a large file, a long final answer) is read as far as it goes: the tool name and path come before
 * the file content, the usage before the result text, so progress and usage survive and the summary
 * keeps its beginning.
 */
import {
  clipDetail,
  count,
  isRecord,
  JsonLineCounter,
  type JsonRecord,
  num,
  parseStream,
  relativeTo,
  type StreamParser,
  str,
} from './stream-lines.js';
import type { AgentEvent, Usage } from './types.js';

export interface ClaudeCodeOutcome {
  sessionId?: string;
  /** The final result text of a successful run. */
  summary?: string;
  usage?: Usage;
  /** Whether a `result` event arrived (the run finished from Claude Code's point of view). */
  finished: boolean;
  /** The error Claude Code reported, in its own words, when the result is an error. */
  error?: string;
  /** HTTP status of the model API error that ended or troubled the run. */
  apiErrorStatus?: number;
  /** `--resume` named a session this home does not have. */
  sessionNotFound: boolean;
  /** Lines that were not JSON objects (foreign output). */
  skippedLines: number;
  /** Lines cut at the sandbox's line cap, read as far as they went. */
  truncatedLines: number;
}

export class ClaudeCodeStreamParser implements StreamParser<ClaudeCodeOutcome> {
  #sessionId: string | undefined;
  #cwd: string | undefined;
  #lastText: string | undefined;
  #result: JsonRecord | undefined;
  #apiErrorStatus: number | undefined;
  #apiErrorText: string | undefined;
  readonly #lines = new JsonLineCounter();

  push(line: string): AgentEvent[] {
    const read = this.#lines.read(line);
    if (!read) return [];
    const { event, truncated } = read;
    const events: AgentEvent[] = [];
    const session = str(event.session_id);
    if (session && session !== this.#sessionId) {
      this.#sessionId = session;
      events.push({ type: 'session', sessionId: session });
    }
    // The result event names its type after the result text: a cut result line lacks it.
    const type = event.type ?? (truncated && 'total_cost_usd' in event ? 'result' : undefined);
    switch (type) {
      case 'system':
        if (event.subtype === 'init') this.#cwd = str(event.cwd);
        if (event.subtype === 'api_retry' && typeof event.error_status === 'number') {
          this.#apiErrorStatus = event.error_status;
        }
        break;
      case 'assistant':
        events.push(...this.#assistant(event));
        break;
      case 'result':
        this.#result = event;
        events.push(...this.#finish(event));
        break;
      default:
        break;
    }
    return events;
  }

  /** The result event closes the stream: nothing is pending at its end. */
  end(): AgentEvent[] {
    return [];
  }

  outcome(): ClaudeCodeOutcome {
    const result = this.#result;
    const outcome: ClaudeCodeOutcome = {
      finished: result !== undefined,
      sessionNotFound: false,
      skippedLines: this.#lines.skipped,
      truncatedLines: this.#lines.truncated,
      ...(this.#sessionId ? { sessionId: this.#sessionId } : {}),
    };
    if (this.#apiErrorStatus !== undefined) outcome.apiErrorStatus = this.#apiErrorStatus;
    if (!result) return outcome;
    const usage = usageOf(result);
    if (usage) outcome.usage = usage;
    if (typeof result.api_error_status === 'number') outcome.apiErrorStatus = result.api_error_status;
    if (
      result.is_error === true ||
      (typeof result.subtype === 'string' && result.subtype.startsWith('error'))
    ) {
      const errors = Array.isArray(result.errors)
        ? result.errors.filter((e): e is string => typeof e === 'string')
        : [];
      outcome.error =
        str(result.result)?.trim() || errors.join('; ') || this.#apiErrorText || describeSubtype(result);
      outcome.sessionNotFound = errors.some((e) => /no conversation found/i.test(e));
    } else {
      const summary = str(result.result)?.trim() || this.#lastText;
      if (summary) outcome.summary = summary;
    }
    return outcome;
  }

  #assistant(event: JsonRecord): AgentEvent[] {
    const message = event.message;
    if (!isRecord(message) || !Array.isArray(message.content)) return [];
    // Claude Code reports API failures as a synthetic assistant message; that is not the agent talking.
    if (event.is_api_error_message === true || message.model === '<synthetic>') {
      const text = message.content.map((b) => (isRecord(b) ? str(b.text) : undefined)).find(Boolean);
      if (text) this.#apiErrorText = text;
      if (typeof event.api_error_status === 'number') this.#apiErrorStatus = event.api_error_status;
      return [];
    }
    // Messages of subagents (Task tool) carry their parent's tool_use id: show their tool calls only.
    const nested = typeof event.parent_tool_use_id === 'string';
    const events: AgentEvent[] = [];
    for (const block of message.content) {
      if (!isRecord(block)) continue;
      if (block.type === 'text' && !nested) {
        const text = str(block.text)?.trim();
        if (text) {
          this.#lastText = text;
          events.push({ type: 'message', text });
        }
      } else if (block.type === 'tool_use' && typeof block.name === 'string') {
        const detail = toolDetail(block.name, block.input, this.#cwd);
        events.push(detail ? { type: 'tool', name: block.name, detail } : { type: 'tool', name: block.name });
      }
    }
    return events;
  }

  #finish(result: JsonRecord): AgentEvent[] {
    const events: AgentEvent[] = [];
    const usage = usageOf(result);
    if (usage) events.push({ type: 'usage', usage });
    const outcome = this.outcome();
    if (outcome.summary) events.push({ type: 'summary', text: outcome.summary });
    return events;
  }
}

/** Parses a whole recorded stream (tests, fixtures). */
export function parseClaudeCodeStream(lines: Iterable<string>) {
  return parseStream(new ClaudeCodeStreamParser(), lines);
}

/**
 * Tokens and cost of this run. `usage` covers this run only, but on a resumed session
 * `total_cost_usd` and `modelUsage` are the session's running totals; the per-run cost is in
 * `model_usage_since_last_result` (used when present; otherwise the total, which is the run's own
 * cost for a fresh session).
 */
function usageOf(result: JsonRecord): Usage | undefined {
  const u = result.usage;
  if (!isRecord(u)) return undefined;
  const usage: Usage = {
    inputTokens:
      count(u.input_tokens) + count(u.cache_creation_input_tokens) + count(u.cache_read_input_tokens),
    outputTokens: count(u.output_tokens),
  };
  const sinceLast = result.model_usage_since_last_result;
  if (isRecord(sinceLast)) {
    usage.costUsd = Object.values(sinceLast).reduce<number>(
      (sum, m) => sum + (isRecord(m) ? num(m.costUSD) : 0),
      0,
    );
  } else if (typeof result.total_cost_usd === 'number') {
    usage.costUsd = result.total_cost_usd;
  }
  return usage;
}

function describeSubtype(result: JsonRecord): string {
  switch (result.subtype) {
    case 'error_max_turns':
      return 'it reached its maximum number of turns';
    case 'error_max_budget_usd':
      return 'it reached its spending limit';
    default:
      return 'it reported an error without details';
  }
}

/** A short hint of what a tool call does, for the progress line. */
export function toolDetail(name: string, input: unknown, cwd?: string): string | undefined {
  if (!isRecord(input)) return undefined;
  const path = str(input.file_path) ?? str(input.notebook_path) ?? str(input.path);
  let detail: string | undefined;
  switch (name) {
    case 'Bash':
      detail = str(input.command);
      break;
    case 'Glob':
    case 'Grep':
      detail = str(input.pattern);
      break;
    case 'WebFetch':
      detail = str(input.url);
      break;
    case 'WebSearch':
      detail = str(input.query);
      break;
    case 'Task':
    case 'Agent':
      detail = str(input.description);
      break;
    case 'TodoWrite':
      detail = Array.isArray(input.todos) ? `${input.todos.length} items` : undefined;
      break;
    case 'Skill':
      detail = str(input.skill) ?? str(input.name);
      break;
    default:
      detail = path ? relativeTo(path, cwd) : (str(input.description) ?? str(input.command));
  }
  return detail ? clipDetail(detail) : undefined;
}

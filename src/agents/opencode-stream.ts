/**
 * A pure parser of `opencode run --format json` output (JSON lines, each with `type`, `timestamp`,
 * `sessionID` and a `part` or `error`):
 *
 *   step_start   a model step begins
 *   text         a finished text part: part.text
 *   tool_use     a finished tool call: part.tool, part.state.{status,input,title,error}
 *   step_finish  part.reason ("tool-calls", "stop", …), part.tokens.{input,output,reasoning,cache}, part.cost
 *   reasoning    a finished reasoning part (only with --thinking)
 *   error        error.name, error.data.message (a failed model call, an aborted session …)
 *
 * OpenCode reports input tokens without cache reads/writes and output tokens without reasoning; usage
 * here adds them back (what the provider bills). The text after the last tool call is the summary.
 * Unknown events and non-JSON lines are ignored; a line cut at the sandbox's line cap is read as far
 * as it goes.
 */
import {
  clipDetail,
  count,
  isRecord,
  type JsonRecord,
  parseStream,
  readJsonLine,
  type StreamParser,
  toolDetail,
} from './stream-lines.js';
import type { AgentEvent, Usage } from './types.js';

export interface OpenCodeOutcome {
  sessionId?: string;
  usage?: Usage;
  summary?: string;
  error?: string;
  /** HTTP status of a failed model call, when OpenCode reported one. */
  apiErrorStatus?: number;
  /** The last step's finish reason ("stop", "tool-calls", "length", …). */
  finishReason?: string;
}

export class OpenCodeStreamParser implements StreamParser<OpenCodeOutcome> {
  readonly #checkoutDir: string | undefined;
  #result: OpenCodeOutcome = {};
  #usage: { input: number; output: number; cost: number } | undefined;
  /** Text parts since the last tool call (the answer once the model stops). */
  #texts: string[] = [];
  #lastTexts: string[] = [];
  #summarized = false;

  constructor(options: { checkoutDir?: string } = {}) {
    this.#checkoutDir = options.checkoutDir;
  }

  push(line: string): AgentEvent[] {
    const event = readJsonLine(line)?.event;
    if (!event) return [];
    const events = this.#session(event.sessionID);
    const part = isRecord(event.part) ? event.part : {};
    switch (event.type) {
      case 'text':
        if (typeof part.text === 'string') events.push(...this.#text(part.text));
        break;
      case 'tool_use':
        events.push(this.#tool(part));
        break;
      case 'step_finish':
        events.push(...this.#stepFinish(part));
        break;
      case 'error':
        this.#error(event.error);
        break;
    }
    return events;
  }

  /** Call once when the output ended: the summary is the text after the last tool call. */
  end(): AgentEvent[] {
    if (this.#summarized) return [];
    this.#summarized = true;
    const texts = this.#texts.length ? this.#texts : this.#lastTexts;
    const summary = texts.join('\n\n').trim();
    if (!summary) return [];
    this.#result.summary = summary;
    return [{ type: 'summary', text: summary }];
  }

  outcome(): OpenCodeOutcome {
    return { ...this.#result };
  }

  #session(id: unknown): AgentEvent[] {
    if (typeof id !== 'string' || !id || this.#result.sessionId) return [];
    this.#result.sessionId = id;
    return [{ type: 'session', sessionId: id }];
  }

  #text(text: string): AgentEvent[] {
    const trimmed = text.trim();
    if (!trimmed) return [];
    this.#texts.push(trimmed);
    return [{ type: 'message', text: trimmed }];
  }

  #tool(part: JsonRecord): AgentEvent {
    if (this.#texts.length) this.#lastTexts = this.#texts;
    this.#texts = [];
    const name = typeof part.tool === 'string' ? part.tool : 'tool';
    const state = isRecord(part.state) ? part.state : {};
    const detail =
      toolDetail(state.input, this.#checkoutDir) ??
      (typeof state.title === 'string' && state.title.trim() ? clipDetail(state.title) : undefined);
    return { type: 'tool', name, ...(detail ? { detail } : {}) };
  }

  #stepFinish(part: JsonRecord): AgentEvent[] {
    if (typeof part.reason === 'string') this.#result.finishReason = part.reason;
    const tokens = isRecord(part.tokens) ? part.tokens : undefined;
    if (!tokens) return [];
    const cache = isRecord(tokens.cache) ? tokens.cache : {};
    this.#usage ??= { input: 0, output: 0, cost: 0 };
    const sum = this.#usage;
    sum.input += count(tokens.input) + count(cache.read) + count(cache.write);
    sum.output += count(tokens.output) + count(tokens.reasoning);
    if (typeof part.cost === 'number' && Number.isFinite(part.cost) && part.cost > 0) sum.cost += part.cost;
    const usage: Usage = {
      inputTokens: sum.input,
      outputTokens: sum.output,
      ...(sum.cost > 0 ? { costUsd: Math.round(sum.cost * 1e6) / 1e6 } : {}),
    };
    this.#result.usage = usage;
    return [{ type: 'usage', usage }];
  }

  #error(error: unknown): void {
    if (!isRecord(error)) {
      this.#result.error ??= 'OpenCode reported an error.';
      return;
    }
    const data = isRecord(error.data) ? error.data : {};
    const message = typeof data.message === 'string' && data.message.trim() ? data.message : undefined;
    const name = typeof error.name === 'string' ? error.name : undefined;
    this.#result.error = message ?? name ?? 'OpenCode reported an error.';
    if (typeof data.statusCode === 'number') this.#result.apiErrorStatus = data.statusCode;
  }
}

/** Parses a whole recorded stream (tests, fixtures). */
export function parseOpenCodeStream(lines: Iterable<string>, options: { checkoutDir?: string } = {}) {
  return parseStream(new OpenCodeStreamParser(options), lines);
}

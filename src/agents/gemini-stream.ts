/**
 * A pure parser of Gemini CLI's `--output-format stream-json` output (JSON lines):
 *
 *   {"type":"init","session_id":"…","model":"gemini-2.5-pro"}
 *   {"type":"message","role":"user"|"assistant","content":"…","delta":true}
 *   {"type":"tool_use","tool_name":"write_file","tool_id":"…","parameters":{…}}
 *   {"type":"tool_result","tool_id":"…","status":"success"|"error","output":"…","error":{…}}
 *   {"type":"error","severity":"warning"|"error","message":"…"}
 *   {"type":"result","status":"success"|"error","error":{"type":"…","message":"…"},"stats":{…}}
 *
 * Assistant text arrives in deltas; a run of it up to the next tool call is one message. The last
 * non-empty run is the summary. Unknown events and lines that are not JSON are ignored; a line cut
 * at the sandbox's line cap (a huge tool argument, a long answer) is read as far as it goes.
 */
import {
  count,
  isRecord,
  type JsonRecord,
  parseStream,
  readJsonLine,
  type StreamParser,
  toolDetail,
} from './stream-lines.js';
import type { AgentEvent, Usage } from './types.js';

export interface GeminiOutcome {
  sessionId?: string;
  model?: string;
  usage?: Usage;
  summary?: string;
  /** What the CLI reported as the reason it failed (an error result, an error event). */
  error?: string;
  /** The `result` event's status; undefined when the stream ended without one. */
  status?: 'success' | 'error';
}

export class GeminiStreamParser implements StreamParser<GeminiOutcome> {
  readonly #checkoutDir: string | undefined;
  #segment = '';
  #lastText = '';
  #result: GeminiOutcome = {};
  #lastError: string | undefined;
  #summarized = false;

  /** `checkoutDir` (as the CLI sees it) shortens absolute paths in tool details. */
  constructor(options: { checkoutDir?: string } = {}) {
    this.#checkoutDir = options.checkoutDir;
  }

  push(line: string): AgentEvent[] {
    const read = readJsonLine(line);
    if (!read) return [];
    const { event, truncated } = read;
    switch (event.type) {
      case 'init':
        return this.#init(event);
      case 'message':
        if (event.role === 'assistant' && typeof event.content === 'string') {
          // A non-delta message is whole; deltas extend the current run. A cut message lost its
          // `"delta"` (it comes after the text): it stays part of the current run.
          if (event.delta === true || truncated) this.#segment += event.content;
          else return [...this.#closeSegment(), ...this.#text(event.content)];
        }
        return [];
      case 'tool_use': {
        const name = typeof event.tool_name === 'string' ? event.tool_name : 'tool';
        const detail = toolDetail(event.parameters, this.#checkoutDir);
        return [...this.#closeSegment(), { type: 'tool', name, ...(detail ? { detail } : {}) }];
      }
      case 'error':
        if (typeof event.message === 'string' && event.severity === 'error') this.#lastError = event.message;
        return [];
      case 'result':
        return this.#finish(event);
      default:
        return [];
    }
  }

  /** Call once when the output ended: emits what a missing `result` event would have closed. */
  end(): AgentEvent[] {
    const events = this.#closeSegment();
    if (!this.#result.status && this.#lastError) this.#result.error ??= this.#lastError;
    return [...events, ...this.#summary()];
  }

  outcome(): GeminiOutcome {
    return { ...this.#result };
  }

  #init(event: JsonRecord): AgentEvent[] {
    if (typeof event.model === 'string') this.#result.model = event.model;
    if (typeof event.session_id !== 'string' || !event.session_id) return [];
    this.#result.sessionId = event.session_id;
    return [{ type: 'session', sessionId: event.session_id }];
  }

  #finish(event: JsonRecord): AgentEvent[] {
    const events = this.#closeSegment();
    this.#result.status = event.status === 'success' ? 'success' : 'error';
    if (this.#result.status === 'error') {
      const message =
        isRecord(event.error) && typeof event.error.message === 'string' ? event.error.message : undefined;
      this.#result.error = message ?? this.#lastError ?? 'Gemini CLI reported an error.';
    }
    const stats = isRecord(event.stats) ? event.stats : undefined;
    if (stats && (stats.input_tokens !== undefined || stats.output_tokens !== undefined)) {
      const usage: Usage = {
        inputTokens: count(stats.input_tokens),
        outputTokens: count(stats.output_tokens),
      };
      this.#result.usage = usage;
      events.push({ type: 'usage', usage });
    }
    return [...events, ...this.#summary()];
  }

  #closeSegment(): AgentEvent[] {
    const text = this.#segment;
    this.#segment = '';
    return this.#text(text);
  }

  #text(text: string): AgentEvent[] {
    if (!text.trim()) return [];
    this.#lastText = text.trim();
    return [{ type: 'message', text: this.#lastText }];
  }

  #summary(): AgentEvent[] {
    if (this.#summarized || !this.#lastText) return [];
    this.#summarized = true;
    this.#result.summary = this.#lastText;
    return [{ type: 'summary', text: this.#lastText }];
  }
}

/** Parses a whole recorded stream (tests, fixtures). */
export function parseGeminiStream(lines: Iterable<string>, options: { checkoutDir?: string } = {}) {
  return parseStream(new GeminiStreamParser(options), lines);
}

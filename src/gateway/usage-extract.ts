/**
 * Where each provider protocol reports token usage, as pure functions over parsed JSON:
 * - Anthropic Messages: `message_start.message.usage` (input, cache writes and reads) and the
 *   cumulative `message_delta.usage` (output; newer APIs repeat the input counts there too).
 *   `input_tokens` excludes cached tokens, so the prompt total is the sum of the three.
 * - OpenAI Responses: `response.completed` (or `.incomplete` / `.failed`) → `response.usage`;
 *   `input_tokens` includes `input_tokens_details.cached_tokens`.
 * - OpenAI Chat Completions: the final chunk's `usage` (sent only with
 *   `stream_options.include_usage`); `prompt_tokens` includes the cached ones.
 * - Gemini: `usageMetadata` on the chunks, the last one wins; output is candidates + thoughts.
 */

export type MeteredProtocol = 'anthropic-messages' | 'openai-responses' | 'openai-chat' | 'gemini';

/** Token counts of one response, as the provider reported them. */
export interface TokenReading {
  /** The model the provider says answered, when it says. */
  model?: string;
  /** Every prompt token, cached or not. */
  inputTokens: number;
  /** Of inputTokens: read from the prompt cache. */
  cacheReadTokens: number;
  /** Of inputTokens: written to the prompt cache (5-minute and 1-hour lifetimes together). */
  cacheWriteTokens: number;
  /** Of cacheWriteTokens: with the 1-hour lifetime (priced higher). */
  cacheWrite1hTokens: number;
  /** Including reasoning/thinking tokens. */
  outputTokens: number;
}

/** Mutable state one response's events fold into. */
export interface ReadingState {
  model?: string;
  seen: boolean;
  /** Anthropic's parts, kept apart because message_delta may update any of them. */
  uncached: number;
  cacheRead: number;
  cacheWrite: number;
  cacheWrite1h: number;
  output: number;
}

export function emptyState(): ReadingState {
  return { seen: false, uncached: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, output: 0 };
}

export function toReading(state: ReadingState): TokenReading | undefined {
  if (!state.seen) return undefined;
  const reading: TokenReading = {
    inputTokens: state.uncached + state.cacheRead + state.cacheWrite,
    cacheReadTokens: state.cacheRead,
    cacheWriteTokens: state.cacheWrite,
    cacheWrite1hTokens: Math.min(state.cacheWrite1h, state.cacheWrite),
    outputTokens: state.output,
  };
  if (state.model) reading.model = state.model;
  return reading;
}

export interface Extractor {
  /** Cheap pre-check, so the many text-delta events are never JSON-parsed. */
  wants(event: string | undefined, data: string): boolean;
  /** One parsed SSE event. */
  event(state: ReadingState, value: unknown): void;
  /** A whole non-streaming JSON body. */
  json(state: ReadingState, value: unknown): void;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function anthropicUsage(state: ReadingState, usage: Json | undefined): void {
  if (!usage) return;
  const input = num(usage.input_tokens);
  const write = num(usage.cache_creation_input_tokens);
  const read = num(usage.cache_read_input_tokens);
  const output = num(usage.output_tokens);
  const write1h = num(obj(usage.cache_creation)?.ephemeral_1h_input_tokens);
  if (input !== undefined) state.uncached = input;
  if (write !== undefined) state.cacheWrite = write;
  if (read !== undefined) state.cacheRead = read;
  if (write1h !== undefined) state.cacheWrite1h = write1h;
  if (output !== undefined) state.output = output;
  if ([input, write, read, output].some((n) => n !== undefined)) state.seen = true;
}

const anthropic: Extractor = {
  wants: (event, data) =>
    event === 'message_start' ||
    event === 'message_delta' ||
    (event === undefined && /"type"\s*:\s*"message_(start|delta)"/.test(data.slice(0, 64))),
  event(state, value) {
    const v = obj(value);
    if (v?.type === 'message_start') {
      const message = obj(v.message);
      state.model = str(message?.model) ?? state.model;
      anthropicUsage(state, obj(message?.usage));
    } else if (v?.type === 'message_delta') {
      anthropicUsage(state, obj(v.usage));
    }
  },
  json(state, value) {
    const v = obj(value);
    state.model = str(v?.model) ?? state.model;
    anthropicUsage(state, obj(v?.usage));
  },
};

/** OpenAI's shapes: Responses (`input_tokens`) and Chat Completions (`prompt_tokens`). */
function openaiUsage(state: ReadingState, usage: Json | undefined): void {
  if (!usage) return;
  const input = num(usage.input_tokens) ?? num(usage.prompt_tokens);
  const output = num(usage.output_tokens) ?? num(usage.completion_tokens);
  if (input === undefined && output === undefined) return;
  const details = obj(usage.input_tokens_details) ?? obj(usage.prompt_tokens_details);
  const cached = Math.min(num(details?.cached_tokens) ?? 0, input ?? 0);
  state.cacheRead = cached;
  state.uncached = (input ?? 0) - cached;
  state.output = output ?? 0;
  state.seen = true;
}

const RESPONSE_DONE = new Set(['response.completed', 'response.incomplete', 'response.failed']);

const openaiResponses: Extractor = {
  wants: (event, data) =>
    event !== undefined
      ? RESPONSE_DONE.has(event)
      : /"type"\s*:\s*"response\.(completed|incomplete|failed)"/.test(data.slice(0, 64)),
  event(state, value) {
    const v = obj(value);
    if (typeof v?.type !== 'string' || !RESPONSE_DONE.has(v.type)) return;
    const response = obj(v.response);
    state.model = str(response?.model) ?? state.model;
    openaiUsage(state, obj(response?.usage));
  },
  json(state, value) {
    const v = obj(value);
    state.model = str(v?.model) ?? state.model;
    openaiUsage(state, obj(v?.usage));
  },
};

const openaiChat: Extractor = {
  wants: (_event, data) => /"usage"\s*:\s*\{/.test(data),
  event(state, value) {
    const v = obj(value);
    state.model = str(v?.model) ?? state.model;
    openaiUsage(state, obj(v?.usage));
  },
  json(state, value) {
    openaiChat.event(state, value);
  },
};

function geminiChunk(state: ReadingState, value: unknown): void {
  const v = obj(value);
  state.model = str(v?.modelVersion) ?? state.model;
  const meta = obj(v?.usageMetadata);
  if (!meta) return;
  const prompt = (num(meta.promptTokenCount) ?? 0) + (num(meta.toolUsePromptTokenCount) ?? 0);
  const cached = Math.min(num(meta.cachedContentTokenCount) ?? 0, prompt);
  state.cacheRead = cached;
  state.uncached = prompt - cached;
  state.output = (num(meta.candidatesTokenCount) ?? 0) + (num(meta.thoughtsTokenCount) ?? 0);
  state.seen = true;
}

const gemini: Extractor = {
  wants: (_event, data) => data.includes('"usageMetadata"'),
  event: geminiChunk,
  // Without `alt=sse`, streamGenerateContent answers one JSON array of chunks.
  json(state, value) {
    for (const chunk of Array.isArray(value) ? value : [value]) geminiChunk(state, chunk);
  },
};

export const EXTRACTORS: Record<MeteredProtocol, Extractor> = {
  'anthropic-messages': anthropic,
  'openai-responses': openaiResponses,
  'openai-chat': openaiChat,
  gemini,
};

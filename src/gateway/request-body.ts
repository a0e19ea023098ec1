/**
 * What the gateway reads from (and, in one case, changes in) a generation request body.
 *
 * Streaming Chat Completions report usage only when asked (`stream_options.include_usage`), in
 * one extra chunk with empty `choices` before `[DONE]`. Without it a streamed response carries no
 * token counts at all and the gateway could not account for it, so the gateway adds the option
 * when the client did not. OpenAI documents that chunk as part of the protocol and
 * OpenAI-compatible clients (OpenCode's AI SDK among them) handle it. The response itself is still
 * passed through byte for byte.
 */
import type { Route } from './routes.js';

export interface InspectedBody {
  /** The model the request asks for, when it names one. */
  model?: string;
  /** The body to forward: the original bytes unless the gateway had to change it. */
  body: Buffer;
  /** True when the gateway changed the body. */
  rewritten: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The agent chooses the model string, so it is hostile input: it ends up in usage records, logs
 * and comments. Keep it short and to the characters model names use.
 */
export function modelName(raw: string): string | undefined {
  const name = raw
    .trim()
    .slice(0, 100)
    .replace(/[^A-Za-z0-9._:/@[\]-]/g, '_');
  return name || undefined;
}

export function inspectBody(route: Route, body: Buffer): InspectedBody {
  const plain = (model?: string): InspectedBody =>
    model === undefined ? { body, rewritten: false } : { model, body, rewritten: false };
  if (route.kind !== 'generation') return plain();
  if (route.pathModel !== undefined) return plain(modelName(route.pathModel));
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    // Forwarded as is: the upstream answers a malformed request with its own error.
    return plain();
  }
  if (!isObject(json)) return plain();
  const model = typeof json.model === 'string' ? modelName(json.model) : undefined;
  if (route.protocol === 'openai-chat' && json.stream === true) {
    const options = isObject(json.stream_options) ? json.stream_options : {};
    if (options.include_usage !== true) {
      json.stream_options = { ...options, include_usage: true };
      const next = Buffer.from(JSON.stringify(json), 'utf8');
      return model === undefined ? { body: next, rewritten: true } : { model, body: next, rewritten: true };
    }
  }
  return plain(model);
}

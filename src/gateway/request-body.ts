/**
 * What the gateway reads from (and, in one case, changes in) a generation request body, without
 * parsing the whole body (see json-scan.ts).
 *
 * Streaming Chat Completions report usage only when asked (`stream_options.include_usage`), in
 * one extra chunk with empty `choices` before `[DONE]`. Without it a streamed response carries no
 * token counts at all and the gateway could not account for it, so the gateway adds the option
 * when the client did not. OpenAI documents that chunk as part of the protocol and
 * OpenAI-compatible clients (OpenCode's AI SDK among them) handle it. The response itself is still
 * passed through byte for byte.
 */
import { fieldValue, topLevelFields } from './json-scan.js';
import type { Route } from './routes.js';

export interface InspectedBody {
  /** The model the request asks for, when it names one. */
  model?: string;
  /** The body to forward: the original bytes unless the gateway had to change it. */
  body: Buffer;
  /** True when the gateway changed the body. */
  rewritten: boolean;
  /** Set when the request must be refused (the message says why). */
  refuse?: string;
}

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

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
// The fields whose value the gateway acts on: a second copy could make the gateway and the
// provider read different values (say, a cheap model for the price and a dear one upstream).
const DECISIVE = ['model', 'stream', 'stream_options'];

export function inspectBody(route: Route, body: Buffer): InspectedBody {
  const result = (extra: Partial<InspectedBody> = {}): InspectedBody => {
    const out: InspectedBody = { body, rewritten: false, ...extra };
    if (out.model === undefined) delete out.model;
    return out;
  };
  if (route.kind !== 'generation') return result();
  if (route.pathModel !== undefined) return result({ model: modelName(route.pathModel) });
  const top = topLevelFields(body);
  // Not a JSON object: forwarded as is, and the upstream answers with its own error.
  if (!top) return result();
  const twice = DECISIVE.find((name) => top.duplicates.has(name));
  if (twice) return result({ refuse: `the request body names "${twice}" more than once` });
  const asked = fieldValue(body, top.fields.get('model'));
  const model = typeof asked === 'string' ? modelName(asked) : undefined;
  if (route.protocol !== 'openai-chat' || fieldValue(body, top.fields.get('stream')) !== true)
    return result({ model });

  const span = top.fields.get('stream_options');
  const options = fieldValue(body, span);
  if (isObject(options) && options.include_usage === true) return result({ model });
  const merged = Buffer.from(JSON.stringify({ ...(isObject(options) ? options : {}), include_usage: true }));
  const next = span
    ? Buffer.concat([body.subarray(0, span.start), merged, body.subarray(span.end)])
    : Buffer.concat([
        body.subarray(0, body.indexOf(0x7b) + 1),
        Buffer.from('"stream_options":'),
        merged,
        Buffer.from(','),
        body.subarray(body.indexOf(0x7b) + 1),
      ]);
  return { ...result({ model }), body: next, rewritten: true };
}

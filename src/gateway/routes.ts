/**
 * What the gateway forwards, per provider prefix. Only the model endpoints the agent CLIs call are
 * allowed through: a turn token must not reach batches, files, fine-tuning or admin APIs, where
 * it could spend unmetered or move data. Everything else is answered 404 by the gateway itself.
 *
 *   /anthropic/v1/messages               Claude Code (generation)
 *   /anthropic/v1/messages/count_tokens  Claude Code
 *   /anthropic/v1/models[/id]
 *   /openai/v1/responses[/compact]       Codex (generation)
 *   /openai/v1/chat/completions          OpenCode and other OpenAI-compatible clients (generation)
 *   /openai/v1/models[/id]
 *   /gemini/v1beta/models/M:streamGenerateContent | :generateContent   Gemini CLI (generation)
 *   /gemini/v1beta/models/M:countTokens, /gemini/v1beta/models[/M]
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Provider } from './types.js';
import type { MeteredProtocol } from './usage-extract.js';

export interface Route {
  /** Generation requests are agent steps: admitted against caps and metered. */
  kind: 'generation' | 'passthrough';
  protocol?: MeteredProtocol;
  /** The model named in the path (Gemini). */
  pathModel?: string;
}

/** The part of the gateway's path each provider's upstream base URL replaces. */
export const PREFIXES: Record<Provider, string> = {
  anthropic: '/anthropic',
  openai: '/openai/v1',
  gemini: '/gemini',
};

const MODEL_ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const gen = (protocol: MeteredProtocol, pathModel?: string): Route =>
  pathModel === undefined ? { kind: 'generation', protocol } : { kind: 'generation', protocol, pathModel };
const pass: Route = { kind: 'passthrough' };

const ANTHROPIC_MODELS = new RegExp(`^/v1/models(/${MODEL_ID})?$`);
const OPENAI_MODELS = new RegExp(`^/models(/${MODEL_ID})?$`);
const GEMINI_CALL = new RegExp(
  `^/v1(?:beta|alpha)?/models/(${MODEL_ID}):(streamGenerateContent|generateContent|countTokens)$`,
);
const GEMINI_MODELS = new RegExp(`^/v1(?:beta|alpha)?/models(/${MODEL_ID})?$`);

/** `path` is what follows the provider's prefix, without the query string. */
export function classify(provider: Provider, method: string, path: string): Route | undefined {
  switch (provider) {
    case 'anthropic':
      if (method === 'POST' && path === '/v1/messages') return gen('anthropic-messages');
      if (method === 'POST' && path === '/v1/messages/count_tokens') return pass;
      if (method === 'GET' && ANTHROPIC_MODELS.test(path)) return pass;
      return undefined;
    case 'openai':
      if (method === 'POST' && (path === '/responses' || path === '/responses/compact'))
        return gen('openai-responses');
      if (method === 'POST' && path === '/chat/completions') return gen('openai-chat');
      if (method === 'GET' && OPENAI_MODELS.test(path)) return pass;
      return undefined;
    case 'gemini': {
      const call = method === 'POST' ? GEMINI_CALL.exec(path) : null;
      if (call) return call[2] === 'countTokens' ? pass : gen('gemini', call[1]);
      if (method === 'GET' && GEMINI_MODELS.test(path)) return pass;
      return undefined;
    }
  }
}

/**
 * Every place a client may put its API key: Anthropic `x-api-key` or `Authorization: Bearer`,
 * OpenAI `Authorization: Bearer`, Gemini `x-goog-api-key` or `?key=`. Any of them may carry the
 * turn token on any route.
 */
export function presentedCredentials(headers: IncomingHttpHeaders, query: URLSearchParams): string[] {
  const found: string[] = [];
  const add = (v: string | string[] | undefined) => {
    for (const s of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (s.trim()) found.push(s.trim());
  };
  add(headers['x-api-key']);
  add(headers['x-goog-api-key']);
  const auth = headers.authorization;
  if (auth) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) found.push(m[1]!);
  }
  for (const key of query.getAll('key')) add(key);
  return found;
}

/** Request headers never forwarded: the client's credentials, hop-by-hop and proxy headers. */
const DROPPED = new Set([
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'proxy-authorization',
  'proxy-connection',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'accept-encoding',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);

/** Hop-by-hop response headers (the rest, including content-length and -encoding, pass as is). */
const DROPPED_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function listedInConnection(headers: IncomingHttpHeaders): Set<string> {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return new Set(named);
}

export function forwardRequestHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const extra = listedInConnection(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name) || extra.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export function forwardResponseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const extra = listedInConnection(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_RESPONSE.has(name) || extra.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** How the gateway authenticates to each upstream with the operator's key. */
export function upstreamAuth(provider: Provider, apiKey: string): Record<string, string> {
  switch (provider) {
    case 'anthropic':
      return { 'x-api-key': apiKey };
    case 'openai':
      return { authorization: `Bearer ${apiKey}` };
    case 'gemini':
      return { 'x-goog-api-key': apiKey };
  }
}

/** The setting that holds each provider's key, for "not configured" errors. */
export const KEY_SETTING: Record<Provider, string> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
};

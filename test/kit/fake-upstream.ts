/**
 * A strict stand-in for the three provider APIs behind the model gateway, on loopback. It checks
 * what the gateway must guarantee on every request — the operator's real key in the provider's
 * own auth header and nowhere else, no turn token anywhere (headers, URL, body), no client
 * credentials, no `?key=`, `accept-encoding: identity`, a JSON body of the declared length — and
 * records a violation otherwise (tests assert there are none). It answers with the recorded
 * bodies from test/fixtures/model-streams, streamed event by event; a test can hold a response
 * after its first event to prove the gateway streams incrementally.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Provider } from '../../src/gateway/types.js';
import { MODEL_STREAMS, type ModelStream } from './model-streams.js';

export interface UpstreamRequest {
  provider: Provider;
  method: string;
  /** Path below the provider's base path. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Written one after the other; a held response waits before the second. */
  chunks: Buffer[];
  /** Drop the connection after this many chunks, as a provider that fails mid-stream. */
  dropAfter?: number;
}

export interface FakeUpstream {
  /** Base URLs to configure as the gateway's upstreams (each with its own path prefix). */
  baseUrls: Record<Provider, string>;
  keys: Record<Provider, string>;
  requests: UpstreamRequest[];
  violations: string[];
  /** Requests whose client (the gateway) went away before the response was complete. */
  cutOff: number;
  /** Every body the upstream sent, by request index, for byte comparisons. */
  sent: Buffer[];
  /** Tokens the upstream must never see. */
  forbid(token: string): void;
  /** The next response stops after its first chunk until the returned function is called. */
  holdNext(): () => void;
  /** Replaces the reply for the following requests (undefined restores the recorded ones). */
  setReply(reply: ((req: UpstreamRequest) => Reply | undefined) | undefined): void;
  assertClean(): void;
  close(): Promise<void>;
}

const BASE_PATHS: Record<Provider, string> = {
  anthropic: '/up/anthropic',
  openai: '/up/openai/v1',
  gemini: '/up/gemini',
};

const AUTH_HEADER: Record<Provider, string> = {
  anthropic: 'x-api-key',
  openai: 'authorization',
  gemini: 'x-goog-api-key',
};

/** Splits an SSE body into its events (the way a provider flushes them). */
export function sseChunks(body: Buffer): Buffer[] {
  const text = body.toString('utf8');
  const parts = text.split(/(?<=\r?\n\r?\n)/);
  return parts.filter(Boolean).map((p) => Buffer.from(p, 'utf8'));
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
const sha = sha256;

function recorded(stream: ModelStream): Reply {
  const sse = stream.contentType.startsWith('text/event-stream');
  return {
    headers: { 'content-type': stream.contentType, 'request-id': `req_${sha(stream.body).slice(0, 12)}` },
    chunks: sse ? sseChunks(stream.body) : [stream.body],
  };
}

function json(value: unknown): Reply {
  return { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(JSON.stringify(value))] };
}

/** The recorded answer for a known route, or undefined for anything a provider would 404. */
function defaultReply(req: UpstreamRequest, violations: string[]): Reply | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const { provider, method, path } = req;
  if (provider === 'anthropic') {
    if (method === 'POST' && path === '/v1/messages')
      return recorded(body.stream === true ? MODEL_STREAMS.anthropicSse : MODEL_STREAMS.anthropicJson);
    if (method === 'POST' && path === '/v1/messages/count_tokens') return json({ input_tokens: 2095 });
    if (method === 'GET' && path === '/v1/models')
      return json({ data: [{ type: 'model', id: 'claude-sonnet-4-5-20250929' }], has_more: false });
  }
  if (provider === 'openai') {
    if (method === 'POST' && path === '/responses') return recorded(MODEL_STREAMS.responsesSse);
    if (method === 'POST' && path === '/chat/completions') {
      if (body.stream !== true) return recorded(MODEL_STREAMS.chatJson);
      const options = body.stream_options as Record<string, unknown> | undefined;
      if (options?.include_usage !== true) violations.push('streamed chat completion without include_usage');
      return recorded(MODEL_STREAMS.chatSse);
    }
    if (method === 'GET' && path === '/models')
      return json({ object: 'list', data: [{ id: 'gpt-5', object: 'model' }] });
  }
  if (provider === 'gemini' && method === 'POST') {
    const m = /^\/v1beta\/models\/([^:/]+):(streamGenerateContent|generateContent|countTokens)$/.exec(path);
    if (m?.[2] === 'streamGenerateContent') {
      if (req.query.get('alt') !== 'sse') violations.push('gemini stream without alt=sse');
      return recorded(MODEL_STREAMS.geminiSse);
    }
    if (m?.[2] === 'generateContent') return recorded(MODEL_STREAMS.geminiJson);
    if (m?.[2] === 'countTokens') return json({ totalTokens: 14250 });
  }
  return undefined;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const keys: Record<Provider, string> = {
    anthropic: `sk-ant-api03-${'RealAnthropicKey'.repeat(4)}`,
    openai: `sk-proj-${'RealOpenAIKey0'.repeat(4)}`,
    gemini: `AIzaSy${'RealGeminiKey'.repeat(3)}`,
  };
  const forbidden: string[] = [];
  const requests: UpstreamRequest[] = [];
  const violations: string[] = [];
  const sent: Buffer[] = [];
  let hold: Promise<void> | undefined;
  let custom: ((req: UpstreamRequest) => Reply | undefined) | undefined;
  const state = { cutOff: 0 };

  const check = (provider: Provider, req: IncomingMessage, url: URL, raw: Buffer) => {
    const where = `${req.method} ${url.pathname}`;
    const h = req.headers;
    const expected = provider === 'openai' ? `Bearer ${keys.openai}` : keys[provider];
    if (h[AUTH_HEADER[provider]] !== expected) violations.push(`${where}: missing or wrong real key`);
    for (const name of Object.values(AUTH_HEADER)) {
      if (name !== AUTH_HEADER[provider] && h[name] !== undefined)
        violations.push(`${where}: stray ${name} header`);
    }
    for (const name of [
      'proxy-authorization',
      'proxy-connection',
      'keep-alive',
      'upgrade',
      'x-forwarded-for',
    ]) {
      if (h[name] !== undefined) violations.push(`${where}: hop-by-hop or proxy header ${name}`);
    }
    if (url.searchParams.has('key')) violations.push(`${where}: ?key= reached the upstream`);
    if (h['accept-encoding'] !== 'identity')
      violations.push(`${where}: accept-encoding ${h['accept-encoding']}`);
    const everything = `${req.url}\n${JSON.stringify(h)}\n${raw.toString('utf8')}`;
    for (const token of forbidden)
      if (everything.includes(token)) violations.push(`${where}: saw a turn token`);
    if (req.method === 'POST') {
      if (Number(h['content-length']) !== raw.byteLength)
        violations.push(`${where}: content-length mismatch`);
      if (!String(h['content-type']).startsWith('application/json')) violations.push(`${where}: not JSON`);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const provider = (Object.keys(BASE_PATHS) as Provider[]).find((p) =>
      url.pathname.startsWith(`${BASE_PATHS[p]}/`),
    );
    if (!provider) {
      violations.push(`unexpected ${req.method} ${url.pathname}`);
      res.writeHead(404).end();
      return;
    }
    check(provider, req, url, raw);
    let body: unknown;
    try {
      body = raw.byteLength ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      violations.push(`${req.method} ${url.pathname}: body is not JSON`);
    }
    const request: UpstreamRequest = {
      provider,
      method: req.method ?? '',
      path: url.pathname.slice(BASE_PATHS[provider].length),
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    requests.push(request);
    const reply = custom?.(request) ?? defaultReply(request, violations);
    if (!reply) {
      violations.push(`unexpected ${request.method} ${provider} ${request.path}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const index = sent.length;
    sent.push(Buffer.alloc(0));
    const held = hold;
    hold = undefined;
    res.on('close', () => {
      if (!res.writableFinished) state.cutOff++;
    });
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    for (const [i, chunk] of reply.chunks.entries()) {
      if (i === 1 && held) await held;
      if (res.destroyed) return;
      if (i === reply.dropAfter) {
        // A clean FIN after what was written, without the response's end: a truncated stream.
        res.socket?.end();
        return;
      }
      res.write(chunk);
      sent[index] = Buffer.concat([sent[index]!, chunk]);
    }
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`fake upstream crashed: ${(error as Error).stack}`);
      res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    baseUrls: {
      anthropic: `${origin}${BASE_PATHS.anthropic}`,
      openai: `${origin}${BASE_PATHS.openai}`,
      gemini: `${origin}${BASE_PATHS.gemini}`,
    },
    keys,
    requests,
    violations,
    get cutOff() {
      return state.cutOff;
    },
    sent,
    forbid: (token) => forbidden.push(token),
    holdNext() {
      let release!: () => void;
      hold = new Promise<void>((r) => {
        release = r;
      });
      return release;
    },
    setReply(reply) {
      custom = reply;
    },
    assertClean() {
      if (violations.length) throw new Error(`fake upstream saw violations:\n${violations.join('\n')}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

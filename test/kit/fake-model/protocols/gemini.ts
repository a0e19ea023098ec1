/**
 * The Gemini API (v1beta) as Gemini CLI uses it: `POST /v1beta/models/{model}:streamGenerateContent`
 * (`?alt=sse`: server-sent events of GenerateContentResponse; without `alt`: one streamed JSON
 * array), `:generateContent` and `:countTokens`. The key travels in `x-goog-api-key` (or `?key=`).
 * Importing this module also registers Gemini CLI's tools with the scripted brain.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Exchange, Message, ParsedRequest, ProtocolModule, Reply, Usage } from '../types.js';
import './gemini-tools.js';
import {
  checkModelName,
  type GeminiContent,
  validateCountTokens,
  validateGenerateContent,
} from './gemini-validate.js';
import { RequestChecks } from './request-checks.js';

type Method = 'streamGenerateContent' | 'generateContent' | 'countTokens';

const ROUTE = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

/** What respond() needs beyond the Exchange (the seam's Exchange is protocol-neutral). */
const requestKinds = new WeakMap<Exchange, { method: Method; sse: boolean }>();

export const geminiProtocol: ProtocolModule = {
  protocol: 'gemini',

  matches(method, path) {
    return method === 'POST' && ROUTE.test(path);
  },

  parse(req: ParsedRequest) {
    const checks = new RequestChecks();
    const [, model = '', method] = ROUTE.exec(req.path) as unknown as [string, string, Method];
    checkModelName(checks, model);
    const key = req.headers['x-goog-api-key'] || req.query.get('key') || bearer(req.headers.authorization);
    if (!key)
      checks.fail('headers', 'no API key (x-goog-api-key header or key= parameter): 403 unregistered caller');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      checks.fail('headers', `content-type must be application/json, got ${req.headers['content-type']}`);
    }
    const alt = req.query.get('alt');
    if (alt !== null && alt !== 'sse' && alt !== 'json') checks.fail('query', `unknown alt=${alt}`);
    if (alt === 'sse' && method !== 'streamGenerateContent')
      checks.fail('query', `alt=sse is only for streamGenerateContent`);
    for (const name of req.query.keys()) {
      if (!['alt', 'key', '$alt'].includes(name)) checks.fail('query', `unknown parameter ${name}`);
    }
    const valid =
      method === 'countTokens'
        ? validateCountTokens(checks, req.body, model)
        : validateGenerateContent(checks, req.body, model);
    if (checks.errors.length || !valid)
      return { errors: checks.errors.length ? checks.errors : ['invalid request'] };

    const exchange: Exchange = {
      protocol: 'gemini',
      model,
      tools: valid.tools,
      messages: [
        ...(valid.systemText ? [{ role: 'system' as const, text: valid.systemText }] : []),
        ...valid.contents.flatMap(toMessages),
      ],
      stream: method === 'streamGenerateContent',
    };
    requestKinds.set(exchange, { method, sse: alt === 'sse' });
    return { exchange };
  },

  respond(res, exchange, reply, usage) {
    const kind = requestKinds.get(exchange) ?? { method: 'generateContent', sse: false };
    if (kind.method === 'countTokens') {
      writeJson(res, { totalTokens: usage.inputTokens });
      return;
    }
    const chunks = responseChunks(exchange, reply, usage);
    if (kind.method === 'generateContent') {
      writeJson(res, merge(chunks));
    } else if (kind.sse) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      res.end();
    } else {
      // Without alt=sse the API streams one JSON array, element by element.
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.write('[');
      for (const [i, chunk] of chunks.entries()) res.write(`${i ? ',\r\n' : ''}${JSON.stringify(chunk)}`);
      res.end(']');
    }
  },
};

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

function toMessages(content: GeminiContent): Message[] {
  const messages: Message[] = [];
  const texts: string[] = [];
  for (const part of content.parts) {
    if (typeof part.text === 'string' && part.thought !== true) texts.push(part.text);
    const call = part.functionCall as { name: string; args?: unknown } | undefined;
    if (call)
      messages.push({ role: 'assistant', text: '', toolCall: { name: call.name, args: call.args ?? {} } });
    const response = part.functionResponse as { response: unknown } | undefined;
    if (response) messages.push({ role: 'tool', text: JSON.stringify(response.response) });
  }
  if (texts.length)
    messages.unshift({ role: content.role === 'model' ? 'assistant' : 'user', text: texts.join('\n') });
  return messages;
}

type Chunk = Record<string, unknown>;

/** A reply as the API streams it: text in two pieces, a function call whole; usage complete in the last chunk. */
function responseChunks(exchange: Exchange, reply: Reply, usage: Usage): Chunk[] {
  const responseId = randomBytes(12).toString('base64url');
  const chunk = (parts: unknown[], last: boolean): Chunk => ({
    candidates: [{ content: { parts, role: 'model' }, ...(last ? { finishReason: 'STOP' } : {}), index: 0 }],
    usageMetadata: last
      ? {
          promptTokenCount: usage.inputTokens,
          candidatesTokenCount: usage.outputTokens,
          totalTokenCount: usage.inputTokens + usage.outputTokens,
        }
      : { promptTokenCount: usage.inputTokens, totalTokenCount: usage.inputTokens },
    modelVersion: exchange.model,
    responseId,
  });
  if (reply.kind === 'tool') return [chunk([{ functionCall: { name: reply.name, args: reply.args } }], true)];
  const cut = Math.ceil(reply.text.length / 2);
  const pieces = [reply.text.slice(0, cut), reply.text.slice(cut)].filter(Boolean);
  if (pieces.length === 0) pieces.push('');
  return pieces.map((text, i) => chunk([{ text }], i === pieces.length - 1));
}

/** The non-streaming response: one candidate holding the whole text (or the function call). */
function merge(chunks: Chunk[]): Chunk {
  type Candidate = { content: { parts: Array<{ text?: string }> } };
  const all = chunks.flatMap((c) => (c.candidates as Candidate[])[0]!.content.parts);
  const text = all.every((p) => typeof p.text === 'string') ? all.map((p) => p.text).join('') : undefined;
  const parts = text === undefined ? all : [{ text }];
  const last = chunks[chunks.length - 1]!;
  return {
    ...last,
    candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
  };
}

function writeJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
}

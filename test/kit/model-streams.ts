/**
 * The recorded provider response bodies in test/fixtures/model-streams/, with what each one
 * reports as usage (read off the bodies by hand, see that folder's README).
 */
import { readFileSync } from 'node:fs';
import type { MeteredProtocol, TokenReading } from '../../src/gateway/usage-extract.js';

export interface ModelStream {
  file: string;
  protocol: MeteredProtocol;
  contentType: string;
  body: Buffer;
  expected: TokenReading & { model: string };
}

const dir = new URL('../fixtures/model-streams/', import.meta.url);
const SSE = 'text/event-stream; charset=utf-8';
const JSON_TYPE = 'application/json';

function load(
  file: string,
  protocol: MeteredProtocol,
  contentType: string,
  expected: Partial<TokenReading> & { model: string; inputTokens: number; outputTokens: number },
): ModelStream {
  return {
    file,
    protocol,
    contentType,
    body: readFileSync(new URL(file, dir)),
    expected: { cacheReadTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0, ...expected },
  };
}

export const MODEL_STREAMS = {
  anthropicSse: load('anthropic-messages.sse', 'anthropic-messages', SSE, {
    model: 'claude-sonnet-4-5-20250929',
    inputTokens: 12 + 2048 + 18432,
    cacheReadTokens: 18432,
    cacheWriteTokens: 2048,
    cacheWrite1hTokens: 2048,
    outputTokens: 287,
  }),
  anthropicJson: load('anthropic-messages.json', 'anthropic-messages', JSON_TYPE, {
    model: 'claude-haiku-4-5-20251001',
    inputTokens: 412,
    outputTokens: 9,
  }),
  responsesSse: load('openai-responses.sse', 'openai-responses', SSE, {
    model: 'gpt-5.1-codex-max',
    inputTokens: 9410,
    cacheReadTokens: 8192,
    outputTokens: 412,
  }),
  chatSse: load('openai-chat.sse', 'openai-chat', SSE, {
    model: 'gpt-4.1-mini-2025-04-14',
    inputTokens: 1536,
    cacheReadTokens: 1024,
    outputTokens: 27,
  }),
  chatJson: load('openai-chat.json', 'openai-chat', JSON_TYPE, {
    model: 'gpt-4.1-mini-2025-04-14',
    inputTokens: 220,
    outputTokens: 3,
  }),
  geminiSse: load('gemini.sse', 'gemini', SSE, {
    model: 'gemini-2.5-pro',
    inputTokens: 14250,
    cacheReadTokens: 12000,
    outputTokens: 58 + 300,
  }),
  geminiJson: load('gemini.json', 'gemini', JSON_TYPE, {
    model: 'gemini-2.5-flash',
    inputTokens: 880,
    outputTokens: 6 + 40,
  }),
} satisfies Record<string, ModelStream>;

/**
 * Reads token usage from a response body while it streams through the gateway: a copy of each
 * chunk goes in, the response itself is never touched. SSE bodies are decoded incrementally and
 * only the few usage-bearing events are parsed; JSON bodies are kept (up to a limit) and parsed
 * at the end.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { SseDecoder } from './sse.js';
import {
  EXTRACTORS,
  emptyState,
  type MeteredProtocol,
  type ReadingState,
  type TokenReading,
  toReading,
} from './usage-extract.js';

export interface UsageMeter {
  write(chunk: Uint8Array): void;
  /** The usage the body reported, or undefined when it reported none. */
  end(): TokenReading | undefined;
}

/** Non-streaming bodies larger than this are not parsed (no usage rather than a memory spike). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export function createMeter(protocol: MeteredProtocol, contentType: string | undefined): UsageMeter {
  const extractor = EXTRACTORS[protocol];
  const state: ReadingState = emptyState();
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };

  if (/^\s*text\/event-stream/i.test(contentType ?? '')) {
    const decoder = new SseDecoder();
    const take = (events: ReturnType<SseDecoder['push']>) => {
      for (const e of events) {
        if (extractor.wants(e.event, e.data)) extractor.event(state, parse(e.data));
      }
    };
    return {
      write: (chunk) => take(decoder.push(chunk)),
      end: () => {
        take(decoder.end());
        return toReading(state);
      },
    };
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    write(chunk) {
      size += chunk.byteLength;
      if (size <= MAX_JSON_BYTES) chunks.push(chunk);
    },
    end() {
      if (size > MAX_JSON_BYTES) return undefined;
      extractor.json(state, parse(Buffer.concat(chunks).toString('utf8')));
      return toReading(state);
    },
  };
}

/** The usage in a complete body, fed in `chunkSize` pieces (for tests and tools). */
export function measureBody(
  protocol: MeteredProtocol,
  contentType: string,
  body: string | Uint8Array,
  chunkSize = Number.POSITIVE_INFINITY,
): TokenReading | undefined {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const meter = createMeter(protocol, contentType);
  const step = Math.max(1, Math.min(chunkSize, bytes.byteLength || 1));
  for (let i = 0; i < bytes.byteLength; i += step) meter.write(bytes.subarray(i, i + step));
  return meter.end();
}

/** Upstreams should honour `accept-encoding: identity`; if one compresses anyway, decode a copy. */
export function decodingMeter(
  protocol: MeteredProtocol,
  contentType: string | undefined,
  encoding: string | undefined,
): UsageMeter {
  const inner = createMeter(protocol, contentType);
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return inner;
  const decode = { gzip: gunzipSync, 'x-gzip': gunzipSync, deflate: inflateSync, br: brotliDecompressSync }[
    enc
  ];
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => {
      if (decode) chunks.push(Buffer.from(chunk));
    },
    end: () => {
      if (!decode) return undefined;
      inner.write(decode(Buffer.concat(chunks)));
      return inner.end();
    },
  };
}

/** About 4 bytes per token of request and response: over-counts JSON, so errs toward the caps. */
export function estimateUsage(requestBytes: number, responseBytes: number): TokenReading {
  return {
    inputTokens: Math.ceil(requestBytes / 4),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: Math.ceil(responseBytes / 4),
  };
}

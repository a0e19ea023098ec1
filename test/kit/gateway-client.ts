/** A small HTTP client for gateway tests: streams the response and says when the first byte came. */
import http, { type IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface StreamedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Resolves with the first body chunk (or an empty buffer for an empty body). */
  first: Promise<Buffer>;
  /** Resolves with the whole body; rejects if the connection is cut before the end. */
  body: Promise<Buffer>;
  json(): Promise<unknown>;
  /** Drops the connection, as a client that gives up mid-stream. */
  abort(): void;
}

export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<StreamedResponse> {
  const payload =
    options.body === undefined
      ? undefined
      : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? (payload ? 'POST' : 'GET'),
      headers: {
        ...(payload
          ? { 'content-type': 'application/json', 'content-length': String(payload.byteLength) }
          : {}),
        ...options.headers,
      },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let gotFirst!: (b: Buffer) => void;
      const first = new Promise<Buffer>((r) => {
        gotFirst = r;
      });
      const body = new Promise<Buffer>((done, fail) => {
        res.on('data', (c: Buffer) => {
          if (chunks.length === 0) gotFirst(c);
          chunks.push(c);
        });
        res.on('end', () => {
          gotFirst(Buffer.alloc(0));
          done(Buffer.concat(chunks));
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('response aborted')));
        res.on('close', () => {
          if (!res.complete) fail(new Error('response cut off'));
        });
      });
      body.catch(() => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        first,
        body,
        json: async () => JSON.parse((await body).toString('utf8')),
        abort: () => req.destroy(),
      });
    });
    req.end(payload);
  });
}

/** A debug-level logger whose lines are kept in memory (unredacted, to prove nothing secret is logged). */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/**
 * The fake model server: one loopback HTTP server speaking every registered provider protocol.
 * Anything unexpected (unknown route, malformed request) is answered with an error in the
 * provider's style and recorded as a violation, which tests assert is empty.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scriptedBrain } from './brain.js';
import type { Brain, Exchange, ProtocolModule, RecordedRequest, Reply, Usage } from './types.js';

export interface FakeModel {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash, no /v1). */
  url: string;
  port: number;
  requests: RecordedRequest[];
  violations: string[];
  /** Replace the brain for the following requests. */
  setBrain(brain: Brain): void;
  assertNoViolations(): void;
  close(): Promise<void>;
}

export interface FakeModelOptions {
  protocols: ProtocolModule[];
  brain?: Brain;
}

/** Deterministic token counts, so tests can compare what the gateway measured with what was served. */
export function usageFor(exchange: Exchange, reply: Reply): Usage {
  const input = exchange.messages.reduce(
    (n, m) => n + m.text.length + JSON.stringify(m.toolCall ?? '').length,
    0,
  );
  const output =
    reply.kind === 'text' ? reply.text.length : JSON.stringify(reply.args).length + reply.name.length;
  return { inputTokens: Math.ceil(input / 4) + 10, outputTokens: Math.ceil(output / 4) + 1 };
}

export async function startFakeModel(options: FakeModelOptions): Promise<FakeModel> {
  let brain = options.brain ?? scriptedBrain;
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake-model');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    // Claude Code probes the base URL before its first request.
    if (method === 'HEAD' && url.pathname === '/') {
      res.writeHead(200).end();
      return;
    }
    const module = options.protocols.find((p) => p.matches(method, url.pathname));
    if (!module) {
      violations.push(`unexpected ${method} ${url.pathname}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      violations.push(`${module.protocol} ${url.pathname}: body is not JSON`);
      res.writeHead(400).end('body is not JSON');
      return;
    }
    const parsed = module.parse({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    });
    if ('errors' in parsed) {
      violations.push(...parsed.errors.map((e) => `${module.protocol} ${url.pathname}: ${e}`));
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: parsed.errors.join('; ') } }));
      return;
    }
    let reply: Reply;
    try {
      reply = brain(parsed.exchange);
    } catch (error) {
      violations.push(`${module.protocol}: brain failed: ${(error as Error).message}`);
      res.writeHead(500).end((error as Error).message);
      return;
    }
    const usage = usageFor(parsed.exchange, reply);
    requests.push({
      protocol: module.protocol,
      path: url.pathname,
      headers: req.headers,
      exchange: parsed.exchange,
      reply,
      usage,
    });
    module.respond(res, parsed.exchange, reply, usage);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`fake model crashed: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    violations,
    setBrain(next) {
      brain = next;
    },
    assertNoViolations() {
      if (violations.length)
        throw new Error(`fake model saw ${violations.length} violation(s):\n${violations.join('\n')}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

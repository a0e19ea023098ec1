import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TaskStore } from '../tasks/store.js';
import type { TaskLinks } from './links.js';
import { renderTaskPage } from './task-page.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface HttpOptions {
  host: string;
  port: number;
  log: Logger;
  redis: Redis;
  store: TaskStore;
  links: TaskLinks;
  /** Webhook endpoints (each returns true when it handled the request). */
  handlers: Handler[];
}

/** Forge's HTTP surface: webhooks, health, and the task log page. */
export async function startHttp(
  options: HttpOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void route(req, res, options).catch((error) => {
      options.log.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  // Keep-alive sockets from webhook senders must not hold shutdown hostage.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, options: HttpOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://forge.invalid');
  if (req.method === 'GET' && url.pathname === '/healthz') {
    return json(res, 200, { ok: true });
  }
  if (req.method === 'GET' && url.pathname === '/readyz') {
    const ok = await options.redis.ping().then(
      () => true,
      () => false,
    );
    return json(res, ok ? 200 : 503, { ok, redis: ok });
  }
  const taskMatch = /^\/(api\/v1\/)?tasks\/(t[0-9a-z]{6,30})$/.exec(url.pathname);
  if (req.method === 'GET' && taskMatch) {
    const taskId = taskMatch[2]!;
    if (!options.links.verify(taskId, url.searchParams.get('sig')))
      return json(res, 404, { error: 'not found' });
    const task = await options.store.get(taskId);
    if (!task) return json(res, 404, { error: 'not found' });
    const events = await options.store.events(taskId, { count: 5000 });
    if (taskMatch[1]) return json(res, 200, { task, events });
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
    res.end(renderTaskPage(task, events));
    return;
  }
  for (const handler of options.handlers) {
    if (await handler(req, res)) return;
  }
  json(res, 404, { error: 'not found' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

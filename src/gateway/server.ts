/**
 * The model gateway's HTTP server, in the worker process. One port serves both:
 * - the gateway, by path prefix (`/anthropic`, `/openai/v1`, `/gemini`; see routes.ts), which
 *   agents use as their provider base URL with the turn token as their API key;
 * - the egress proxy (CONNECT and absolute-URI requests; see egress.ts), which agents use as
 *   `HTTPS_PROXY`/`HTTP_PROXY` with the turn token as the proxy password.
 */
import http, { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { ModelAccess } from '../agents/types.js';
import { normalizeHost, parseEgressAllow } from './allowlist.js';
import { type EgressContext, handleConnect, handleProxyRequest } from './egress.js';
import { errorBody } from './errors.js';
import { type ForwardContext, handleProvider, type Upstream } from './forward.js';
import { GrantRegistry } from './grants.js';
import { PriceTable, type Rates } from './prices.js';
import { PREFIXES } from './routes.js';
import type { GrantOptions, ModelGateway, Provider, TurnGrant } from './types.js';

export interface ModelGatewayOptions {
  /** Address to listen on (`FORGE_GATEWAY_HOST`). */
  host: string;
  /** `FORGE_GATEWAY_PORT`; 0 picks a free port. */
  port: number;
  /** URL agents reach the gateway at (`FORGE_GATEWAY_URL`); default `http://<host>:<port>`. */
  publicUrl?: string;
  upstreams: Record<Provider, Upstream>;
  /** `FORGE_EGRESS_ALLOW` entries. */
  egressAllow?: readonly string[];
  /** `FORGE_MODEL_PRICES`: model prefix → rates in USD per million tokens. */
  prices?: Readonly<Record<string, Rates>>;
  log?: Logger;
  /** Live turn tokens and the upstream keys are registered here, so no log line shows them. */
  redactor?: { add(secret: string): void; remove(secret: string): void };
  /** Largest request body forwarded (default 64 MiB). */
  maxBodyBytes?: number;
  /** Egress proxy connect timeout (default 10 s). */
  connectTimeoutMs?: number;
}

export class GatewayConfigError extends Error {
  readonly code = 'gateway_config';
  constructor(message: string) {
    super(message);
    this.name = 'GatewayConfigError';
  }
}

const PROVIDERS: Provider[] = ['anthropic', 'openai', 'gemini'];
const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function accessFor(base: URL, token: string): ModelAccess {
  const origin = base.origin;
  return {
    anthropicBaseUrl: `${origin}${PREFIXES.anthropic}`,
    openaiBaseUrl: `${origin}${PREFIXES.openai}`,
    geminiBaseUrl: `${origin}${PREFIXES.gemini}`,
    token,
    proxyUrl: `${base.protocol}//forge:${token}@${base.host}`,
    noProxy: normalizeHost(base.hostname),
  };
}

export async function startModelGateway(options: ModelGatewayOptions): Promise<ModelGateway> {
  const log = options.log ?? pino({ level: 'silent' });
  let rules: ReturnType<typeof parseEgressAllow>;
  try {
    rules = parseEgressAllow(options.egressAllow ?? []);
  } catch (error) {
    throw new GatewayConfigError(`FORGE_EGRESS_ALLOW: ${(error as Error).message}`);
  }
  for (const p of PROVIDERS) {
    const key = options.upstreams[p].apiKey;
    if (key) options.redactor?.add(key);
  }

  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
  };
  let base: URL | undefined;
  const grants = new GrantRegistry({
    prices: new PriceTable(options.prices ?? {}),
    access: (token) => accessFor(base!, token),
    events: {
      onCallbackError: (grant, callback, error) =>
        log.error(
          { err: error, taskId: grant.options.taskId, turn: grant.options.turn, callback },
          'gateway callback failed',
        ),
      onToken: (token, live) => (live ? options.redactor?.add(token) : options.redactor?.remove(token)),
    },
  });
  const forwardCtx: ForwardContext = {
    upstreams: options.upstreams,
    grants,
    log,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    agents,
  };

  const serveGateway = (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      req.resume();
      res.writeHead(400).end();
      return;
    }
    const path = url.pathname;
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    for (const provider of PROVIDERS) {
      const prefix = PREFIXES[provider];
      if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
      handleProvider(forwardCtx, provider, path.slice(prefix.length), url, req, res).catch(
        (error: unknown) => {
          log.error({ err: error, provider }, 'gateway request failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(errorBody(provider, 'bad_gateway', 'Forge gateway: internal error.')));
        },
      );
      return;
    }
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: `Forge's model gateway serves ${PROVIDERS.map((p) => PREFIXES[p]).join(', ')}; not ${path}.`,
      }),
    );
  };

  const server = createServer({ keepAliveTimeout: 65_000 });
  let selfNames = new Set<string>();
  let selfPorts = new Set<number>();
  const egressCtx: EgressContext = {
    rules,
    grants,
    log,
    isSelf: (host, port) => selfNames.has(normalizeHost(host)) && selfPorts.has(port),
    serveTunnel: (socket: Duplex, head: Buffer) => {
      if (head.length) socket.unshift(head);
      server.emit('connection', socket);
    },
    serveRequest: serveGateway,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
  };

  server.on('request', (req, res) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? '')) handleProxyRequest(egressCtx, req, res);
    else serveGateway(req, res);
  });
  server.on('connect', (req, socket, head) => handleConnect(egressCtx, req, socket, head));
  server.on('upgrade', (_req, socket: Duplex) => {
    const body = JSON.stringify({
      error: {
        message: "Forge's model gateway speaks HTTP streaming only, not WebSocket.",
        code: 'websocket_unsupported',
      },
    });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const listenHost = normalizeHost(options.host);
  const defaultHost = WILDCARD.has(listenHost) ? '127.0.0.1' : listenHost;
  const publicUrl = options.publicUrl ?? `http://${urlHost(defaultHost)}:${port}`;
  try {
    base = new URL(publicUrl);
  } catch {
    server.close();
    throw new GatewayConfigError(`FORGE_GATEWAY_URL: "${publicUrl}" is not a URL`);
  }
  if ((base.protocol !== 'http:' && base.protocol !== 'https:') || base.pathname !== '/' || base.search) {
    server.close();
    throw new GatewayConfigError(
      `FORGE_GATEWAY_URL: expected http://host:port without a path, such as http://forge-worker:8089 (got "${publicUrl}")`,
    );
  }
  const publicPort = Number(base.port || (base.protocol === 'https:' ? 443 : 80));
  selfNames = new Set([normalizeHost(base.hostname)]);
  if (!WILDCARD.has(listenHost)) selfNames.add(listenHost);
  if (WILDCARD.has(listenHost) || LOOPBACK.has(listenHost)) for (const n of LOOPBACK) selfNames.add(n);
  selfPorts = new Set([publicPort, port]);
  const url = base.origin;
  log.info(
    { url, listen: `${urlHost(defaultHost)}:${port}`, egressRules: rules.length },
    'model gateway listening',
  );

  return {
    url,
    grant(grantOptions: GrantOptions): TurnGrant {
      return grants.create(grantOptions);
    },
    async close() {
      grants.revokeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/**
 * The egress proxy, on the gateway's own port: `CONNECT host:port` tunnels (HTTPS) and
 * absolute-URI requests (plain HTTP), for agents that get `HTTPS_PROXY`/`HTTP_PROXY`. Every
 * request authenticates with the turn token (`Proxy-Authorization: Basic`, password = token; a
 * bad one gets 407). Only allowlisted host:ports are reached; anything else gets 403 and is
 * reported to the turn once. Requests for the gateway itself (clients that proxy everything and
 * ignore NO_PROXY, such as undici's ProxyAgent) are served by the gateway directly.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type LookupFunction, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type EgressRule, isInternalAddress, matchEgress, normalizeHost } from './allowlist.js';
import type { GrantRegistry, LiveGrant } from './grants.js';

export interface EgressContext {
  rules: readonly EgressRule[];
  grants: GrantRegistry;
  log: Logger;
  /** Is host:port the gateway itself? */
  isSelf(host: string, port: number): boolean;
  /** Hands a tunnel to the gateway itself over to its HTTP server. */
  serveTunnel(socket: Duplex, head: Buffer): void;
  /** Serves a proxied plain-HTTP request for the gateway itself. */
  serveRequest(req: IncomingMessage, res: ServerResponse): void;
  connectTimeoutMs: number;
}

const REALM = 'Basic realm="forge egress proxy"';

/** The token from `Proxy-Authorization: Basic base64(user:token)` (a token-only user works too). */
export function proxyToken(header: string | undefined): string | undefined {
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  const pass = colon === -1 ? '' : decoded.slice(colon + 1);
  return pass || user || undefined;
}

/** `host:port` or `[v6]:port` → parts; undefined when malformed or without a port. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: normalizeHost(m[1] ?? m[2]!), port };
}

const display = (host: string, port: number) => (isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);

/** For wildcard rules: resolve, and never hand out an internal address (see allowlist.ts). */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const ok = addresses.filter((a) => !isInternalAddress(a.address));
    if (ok.length === 0) {
      const refused = Object.assign(new Error(`${hostname} resolves only to internal addresses`), {
        code: 'EFORGEINTERNAL',
      });
      callback(refused, '', 0);
      return;
    }
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
    else callback(null, ok[0]!.address, ok[0]!.family);
  });
};

function rawReply(socket: Duplex, status: string, headers: Record<string, string>, body = ''): void {
  const lines = Object.entries({
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  });
  socket.end(`HTTP/1.1 ${status}\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
}

function blockedMessage(target: string, why?: string): string {
  return `Forge egress proxy: ${target} is not on this Forge's egress allowlist (FORGE_EGRESS_ALLOW)${why ? `: ${why}` : ''}.\n`;
}

function block(ctx: EgressContext, grant: LiveGrant, target: string, why?: string): string {
  ctx.log.info({ taskId: grant.options.taskId, turn: grant.options.turn, target, why }, 'egress blocked');
  grant.noteBlocked(target);
  return blockedMessage(target, why);
}

export function handleConnect(ctx: EgressContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const grant = ctx.grants.find([proxyToken(req.headers['proxy-authorization']) ?? ''].filter(Boolean));
  if (!grant) {
    rawReply(socket, '407 Proxy Authentication Required', { 'proxy-authenticate': REALM });
    return;
  }
  const dest = parseAuthority(req.url ?? '');
  if (!dest) {
    rawReply(socket, '400 Bad Request', { 'content-type': 'text/plain' }, 'CONNECT needs host:port\n');
    return;
  }
  const target = display(dest.host, dest.port);
  const untrack = grant.track(() => socket.destroy());
  socket.once('close', untrack);
  if (ctx.isSelf(dest.host, dest.port)) {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    ctx.serveTunnel(socket, head);
    return;
  }
  const rule = matchEgress(ctx.rules, dest.host, dest.port);
  if (!rule) {
    rawReply(socket, '403 Forbidden', { 'content-type': 'text/plain' }, block(ctx, grant, target));
    return;
  }
  const upstream: Socket = connect({
    host: dest.host,
    port: dest.port,
    ...(rule.wildcard ? { lookup: publicOnlyLookup } : {}),
    timeout: ctx.connectTimeoutMs,
  });
  const stopUpstream = grant.track(() => upstream.destroy());
  upstream.once('close', stopUpstream);
  socket.once('close', () => upstream.destroy());
  upstream.once('timeout', () => {
    upstream.destroy();
    rawReply(socket, '504 Gateway Timeout', { 'content-type': 'text/plain' }, `could not reach ${target}\n`);
  });
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    upstream.setTimeout(0);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    upstream.on('close', () => socket.destroy());
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (connected) {
      socket.destroy();
      return;
    }
    if (error.code === 'EFORGEINTERNAL') {
      rawReply(
        socket,
        '403 Forbidden',
        { 'content-type': 'text/plain' },
        block(ctx, grant, target, error.message),
      );
      return;
    }
    rawReply(
      socket,
      '502 Bad Gateway',
      { 'content-type': 'text/plain' },
      `could not reach ${target}: ${error.code}\n`,
    );
  });
}

const HOP = new Set([
  'proxy-authorization',
  'proxy-connection',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function strip(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase()),
  );
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

/** A request in absolute form (`GET http://host/path`): plain HTTP through the proxy. */
export function handleProxyRequest(ctx: EgressContext, req: IncomingMessage, res: ServerResponse): void {
  const grant = ctx.grants.find([proxyToken(req.headers['proxy-authorization']) ?? ''].filter(Boolean));
  if (!grant) {
    req.resume();
    res.writeHead(407, { 'proxy-authenticate': REALM, 'content-length': 0, connection: 'close' }).end();
    return;
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    req.resume();
    res.writeHead(400, { 'content-type': 'text/plain' }).end('bad proxy request URL\n');
    return;
  }
  if (url.protocol !== 'http:') {
    req.resume();
    res.writeHead(400, { 'content-type': 'text/plain' }).end('use CONNECT for https through this proxy\n');
    return;
  }
  const host = normalizeHost(url.hostname);
  const port = Number(url.port || 80);
  if (ctx.isSelf(host, port)) {
    req.url = `${url.pathname}${url.search}`;
    ctx.serveRequest(req, res);
    return;
  }
  const target = display(host, port);
  const rule = matchEgress(ctx.rules, host, port);
  if (!rule) {
    req.resume();
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(block(ctx, grant, target));
    return;
  }
  const upReq = http.request({
    host,
    port,
    method: req.method,
    path: `${url.pathname}${url.search}`,
    headers: strip(req.headers),
    ...(rule.wildcard ? { lookup: publicOnlyLookup } : {}),
    timeout: ctx.connectTimeoutMs,
  });
  const untrack = grant.track(() => {
    upReq.destroy();
    res.destroy();
  });
  res.once('close', () => {
    untrack();
    upReq.destroy();
  });
  upReq.once('timeout', () => upReq.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  upReq.on('response', (upRes) => {
    upReq.setTimeout(0);
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, strip(upRes.headers));
    upRes.pipe(res);
  });
  upReq.on('error', (error: NodeJS.ErrnoException) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error.code === 'EFORGEINTERNAL') {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(block(ctx, grant, target, error.message));
      return;
    }
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`could not reach ${target}: ${error.code}\n`);
  });
  req.pipe(upReq);
}

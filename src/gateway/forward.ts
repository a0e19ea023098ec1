/**
 * One provider request through the gateway: route check, token check, admission against the
 * turn's caps, the key swap, and the response streamed back chunk by chunk exactly as the
 * upstream sent it while a copy feeds the usage meter.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { sendError } from './errors.js';
import type { GrantRegistry, LiveGrant } from './grants.js';
import { decodingMeter, estimateUsage, type UsageMeter } from './meter.js';
import { readBody } from './read-body.js';
import { inspectBody } from './request-body.js';
import {
  classify,
  forwardRequestHeaders,
  forwardResponseHeaders,
  KEY_SETTING,
  PREFIXES,
  presentedCredentials,
  type Route,
  upstreamAuth,
} from './routes.js';
import type { Provider } from './types.js';
import type { TokenReading } from './usage-extract.js';

export interface Upstream {
  /** Base URL the provider prefix maps to (keeps its own path, e.g. `/v1` for OpenAI). */
  baseUrl: string;
  apiKey?: string;
}

export interface ForwardContext {
  upstreams: Record<Provider, Upstream>;
  grants: GrantRegistry;
  log: Logger;
  maxBodyBytes: number;
  agents: { http: http.Agent; https: https.Agent };
}

export async function handleProvider(
  ctx: ForwardContext,
  provider: Provider,
  rest: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  // Claude Code probes its base URL before the first request.
  if (provider === 'anthropic' && (rest === '' || rest === '/') && (method === 'HEAD' || method === 'GET')) {
    req.resume();
    res.writeHead(200, { 'content-length': 0 }).end();
    return;
  }
  const route = classify(provider, method, rest);
  if (!route) {
    ctx.log.debug(
      { provider, method, path: `${PREFIXES[provider]}${rest}` },
      'gateway does not forward this path',
    );
    req.resume();
    sendError(
      res,
      provider,
      'not_found',
      `Forge's model gateway does not forward ${method} ${PREFIXES[provider]}${rest}.`,
    );
    return;
  }
  const grant = ctx.grants.find(presentedCredentials(req.headers, url.searchParams));
  if (!grant) {
    req.resume();
    sendError(
      res,
      provider,
      'unauthenticated',
      'Forge gateway: the turn token is unknown, revoked or expired.',
    );
    return;
  }
  const upstream = ctx.upstreams[provider];
  if (!upstream.apiKey) {
    req.resume();
    sendError(
      res,
      provider,
      'refused',
      `${KEY_SETTING[provider]} is not set on this Forge, so it cannot reach ${provider} models; an operator must set it.`,
    );
    return;
  }
  const raw = await readBody(req, ctx.maxBodyBytes);
  if (raw === 'too_large') {
    sendError(res, provider, 'too_large', `Forge gateway: request body over ${ctx.maxBodyBytes} bytes.`);
    return;
  }
  if (raw === 'aborted') return;
  const { body, model: asked, refuse } = inspectBody(route, raw);
  if (refuse) {
    sendError(res, provider, 'bad_request', `Forge gateway: ${refuse}.`);
    return;
  }
  const model = asked ?? 'unknown';
  if (!grant.live) {
    sendError(
      res,
      provider,
      'unauthenticated',
      'Forge gateway: the turn token is unknown, revoked or expired.',
    );
    return;
  }
  if (route.kind === 'generation') {
    const reason = grant.admit(provider, model);
    if (reason) {
      ctx.log.info(
        { taskId: grant.options.taskId, turn: grant.options.turn, provider, model, reason },
        'gateway refused a model request',
      );
      sendError(res, provider, 'refused', `Forge stopped this request: ${reason}`);
      return;
    }
  }
  forward(
    ctx,
    { provider, route, rest, url, method, body, model, grant, upstream: upstream as Required<Upstream> },
    req,
    res,
  );
}

interface Outgoing {
  provider: Provider;
  route: Route;
  rest: string;
  url: URL;
  method: string;
  body: Buffer;
  model: string;
  grant: LiveGrant;
  upstream: Required<Upstream>;
}

function upstreamUrl(base: string, rest: string, query: URLSearchParams): URL {
  const params = new URLSearchParams(query);
  params.delete('key');
  const search = params.toString();
  return new URL(`${base.replace(/\/+$/, '')}${rest}${search ? `?${search}` : ''}`);
}

function forward(ctx: ForwardContext, out: Outgoing, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  const target = upstreamUrl(out.upstream.baseUrl, out.rest, out.url.searchParams);
  const headers: Record<string, string | string[]> = {
    ...forwardRequestHeaders(req.headers),
    ...upstreamAuth(out.provider, out.upstream.apiKey),
    // Plain bytes, so usage can be read from the stream as it passes.
    'accept-encoding': 'identity',
  };
  if (out.body.byteLength > 0 || (out.method !== 'GET' && out.method !== 'HEAD'))
    headers['content-length'] = String(out.body.byteLength);
  const secure = target.protocol === 'https:';
  const upReq = (secure ? https : http).request(target, {
    method: out.method,
    headers,
    agent: secure ? ctx.agents.https : ctx.agents.http,
  });

  let meter: UsageMeter | undefined;
  let metered = false;
  let settled = false;
  let status = 0;
  let received = 0;
  const settle = (outcome: string) => {
    if (settled) return;
    settled = true;
    untrack();
    let reading: TokenReading | undefined;
    try {
      reading = meter?.end();
    } catch (error) {
      ctx.log.warn({ err: error, provider: out.provider }, 'gateway could not read usage');
    }
    if (!reading && metered) {
      // A successful response that reported no usage (cut off before its last event, or an
      // OpenAI-compatible server that ignores include_usage) is still never free: estimate it at
      // about 4 bytes per token, which over-counts JSON and so errs toward the caps.
      reading = estimateUsage(out.body.byteLength, received);
      ctx.log.warn(
        {
          taskId: out.grant.options.taskId,
          turn: out.grant.options.turn,
          provider: out.provider,
          outcome,
          ...reading,
        },
        'gateway estimated usage the response did not report',
      );
    }
    if (reading) out.grant.record(out.provider, out.model, reading);
    ctx.log.debug(
      {
        taskId: out.grant.options.taskId,
        turn: out.grant.options.turn,
        provider: out.provider,
        path: `${PREFIXES[out.provider]}${out.rest}`,
        model: out.model,
        status,
        outcome,
        inputTokens: reading?.inputTokens,
        outputTokens: reading?.outputTokens,
        ms: Math.round(performance.now() - started),
      },
      'gateway request',
    );
  };
  const untrack = out.grant.track(() => {
    upReq.destroy();
    res.destroy();
    settle('revoked');
  });

  upReq.on('response', (upRes) => {
    status = upRes.statusCode ?? 502;
    if (out.route.kind === 'generation' && status >= 200 && status < 300) {
      metered = true;
      meter = decodingMeter(
        out.route.protocol!,
        upRes.headers['content-type'],
        upRes.headers['content-encoding'],
      );
    }
    res.writeHead(status, upRes.statusMessage, forwardResponseHeaders(upRes.headers));
    res.flushHeaders();
    upRes.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      try {
        meter?.write(chunk);
      } catch {
        meter = undefined;
      }
      if (!res.write(chunk)) upRes.pause();
    });
    res.on('drain', () => upRes.resume());
    upRes.on('end', () => {
      // Usage is recorded before the client sees the end of the response.
      settle('ok');
      res.end();
    });
    const aborted = () => {
      settle('upstream_aborted');
      res.destroy();
    };
    upRes.on('error', aborted);
    upRes.on('close', () => {
      if (!upRes.complete) aborted();
    });
  });
  upReq.on('error', (error: NodeJS.ErrnoException) => {
    if (settled) return;
    settle('upstream_error');
    ctx.log.warn({ provider: out.provider, host: target.host, code: error.code }, 'gateway upstream error');
    sendError(
      res,
      out.provider,
      'bad_gateway',
      `Forge gateway could not reach ${target.host}: ${error.code ?? error.message}.`,
    );
  });
  // The client went away before the response finished: stop the upstream too.
  res.on('close', () => {
    if (!res.writableFinished) {
      upReq.destroy();
      settle('client_closed');
    }
  });
  upReq.end(out.body);
}

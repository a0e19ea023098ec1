/**
 * Errors the gateway itself answers, each in the calling provider's own error shape so the CLI
 * shows the message. Statuses are chosen for how the CLIs react: their SDKs retry 408, 409, 429
 * and 5xx, so refusals that must stop the agent (caps, a provider without a key) are 403, which
 * none of them retries; a bad token is 401.
 */
import type { ServerResponse } from 'node:http';
import type { Provider } from './types.js';

export type GatewayErrorKind =
  | 'unauthenticated'
  | 'refused'
  | 'not_found'
  | 'bad_request'
  | 'too_large'
  | 'bad_gateway';

const STATUS: Record<GatewayErrorKind, number> = {
  unauthenticated: 401,
  refused: 403,
  not_found: 404,
  bad_request: 400,
  too_large: 413,
  bad_gateway: 502,
};

const ANTHROPIC_TYPE: Record<GatewayErrorKind, string> = {
  unauthenticated: 'authentication_error',
  refused: 'permission_error',
  not_found: 'not_found_error',
  bad_request: 'invalid_request_error',
  too_large: 'request_too_large',
  bad_gateway: 'api_error',
};

const OPENAI_CODE: Record<GatewayErrorKind, string> = {
  unauthenticated: 'invalid_api_key',
  refused: 'forge_refused',
  not_found: 'unknown_url',
  bad_request: 'invalid_request',
  too_large: 'request_too_large',
  bad_gateway: 'upstream_unreachable',
};

const GOOGLE_STATUS: Record<GatewayErrorKind, string> = {
  unauthenticated: 'UNAUTHENTICATED',
  refused: 'PERMISSION_DENIED',
  not_found: 'NOT_FOUND',
  bad_request: 'INVALID_ARGUMENT',
  too_large: 'INVALID_ARGUMENT',
  bad_gateway: 'UNAVAILABLE',
};

export function errorBody(provider: Provider, kind: GatewayErrorKind, message: string): unknown {
  switch (provider) {
    case 'anthropic':
      return { type: 'error', error: { type: ANTHROPIC_TYPE[kind], message } };
    case 'openai':
      return {
        error: {
          message,
          type: kind === 'bad_gateway' ? 'server_error' : 'invalid_request_error',
          param: null,
          code: OPENAI_CODE[kind],
        },
      };
    case 'gemini':
      return { error: { code: STATUS[kind], message, status: GOOGLE_STATUS[kind] } };
  }
}

export function sendError(
  res: ServerResponse,
  provider: Provider,
  kind: GatewayErrorKind,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(provider, kind, message));
  res.writeHead(STATUS[kind], {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    // The gateway answers before reading a refused request's body; do not reuse the connection.
    ...(kind === 'unauthenticated' || kind === 'too_large' ? { connection: 'close' } : {}),
  });
  res.end(body);
}

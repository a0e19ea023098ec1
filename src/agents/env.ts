import type { ModelAccess } from './types.js';

/**
 * Proxy variables for a sandboxed command: everything but the gateway goes through the egress
 * proxy, which allows only the operator's allowlist. Both spellings, since tools disagree.
 */
export function proxyEnv(model: ModelAccess): Record<string, string> {
  if (!model.proxyUrl) return {};
  const gatewayHost = new URL(model.anthropicBaseUrl).hostname;
  const noProxy = [gatewayHost, 'localhost', '127.0.0.1'].join(',');
  return {
    HTTPS_PROXY: model.proxyUrl,
    HTTP_PROXY: model.proxyUrl,
    https_proxy: model.proxyUrl,
    http_proxy: model.proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

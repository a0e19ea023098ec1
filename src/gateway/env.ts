/**
 * The proxy variables an agent's environment needs so that everything except the gateway goes
 * through the egress proxy. Both spellings are set: curl, Python and Go read the lower-case
 * ones, Node tools and Rust's reqwest the upper-case ones.
 */
import type { ModelAccess } from '../agents/types.js';

export function proxyEnvironment(access: ModelAccess): Record<string, string> {
  if (!access.proxyUrl) return {};
  // Loopback and the gateway's own hosts are reached directly, never through the proxy.
  const direct = new Set(['localhost', '127.0.0.1', '::1']);
  for (const host of access.noProxy?.split(',') ?? []) if (host.trim()) direct.add(host.trim());
  for (const url of [access.anthropicBaseUrl, access.openaiBaseUrl, access.geminiBaseUrl]) {
    if (URL.canParse(url)) direct.add(new URL(url).hostname.replace(/^\[(.*)\]$/, '$1'));
  }
  const noProxy = [...direct].join(',');
  return {
    HTTPS_PROXY: access.proxyUrl,
    HTTP_PROXY: access.proxyUrl,
    https_proxy: access.proxyUrl,
    http_proxy: access.proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

/**
 * The standard variables of every provider SDK and CLI, pointing at the gateway with the turn's
 * token, plus the proxy. For the `command` agent, whose program may talk to any of them.
 */
export function modelEnvironment(access: ModelAccess): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: access.anthropicBaseUrl,
    ANTHROPIC_API_KEY: access.token,
    OPENAI_BASE_URL: access.openaiBaseUrl,
    OPENAI_API_KEY: access.token,
    GOOGLE_GEMINI_BASE_URL: access.geminiBaseUrl,
    GEMINI_API_KEY: access.token,
    ...proxyEnvironment(access),
  };
}

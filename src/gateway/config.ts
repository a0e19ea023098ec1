/** The gateway's options from Forge's operator configuration (see src/config/settings.ts). */
import type { Logger } from 'pino';
import type { ForgeConfig } from '../config/load.js';
import type { ModelGatewayOptions } from './server.js';

export function gatewayOptionsFromConfig(
  config: ForgeConfig,
  extras: Pick<ModelGatewayOptions, 'redactor'> & { log?: Logger } = {},
): ModelGatewayOptions {
  const options: ModelGatewayOptions = {
    host: config.gatewayHost,
    port: config.gatewayPort,
    upstreams: {
      anthropic: {
        baseUrl: config.anthropicBaseUrl,
        ...(config.anthropicApiKey ? { apiKey: config.anthropicApiKey } : {}),
      },
      openai: {
        baseUrl: config.openaiBaseUrl,
        ...(config.openaiApiKey ? { apiKey: config.openaiApiKey } : {}),
      },
      gemini: {
        baseUrl: config.geminiBaseUrl,
        ...(config.geminiApiKey ? { apiKey: config.geminiApiKey } : {}),
      },
    },
    egressAllow: config.egressAllow,
    prices: config.modelPrices,
    ...extras,
  };
  if (config.gatewayUrl) options.publicUrl = config.gatewayUrl;
  return options;
}

import { createLogger } from '../observability/logger.js';
import { Redactor } from '../observability/redact.js';
import { githubUrls, loadSetupConfig, needsSetup, type SetupConfig } from './config.js';
import { type RunningSetup, type SetupServerOptions, startSetupServer } from './server.js';

export { githubUrls, loadSetupConfig, needsSetup, type SetupConfig } from './config.js';
export { envLine, loadDotEnv, updateEnvFile } from './env-file.js';
export { type AppManifest, AppYml, buildManifest, defaultAppYmlPath, readAppYml } from './manifest.js';
export {
  ManifestConversion,
  type RegisteredApp,
  type RunningSetup,
  type SetupServerOptions,
  startSetupServer,
} from './server.js';

/**
 * `npm start` without a GitHub App: start the setup server instead of failing, and keep it running
 * until SIGTERM/SIGINT. Returns undefined when the App is configured (start Forge as usual).
 * Throws ConfigError when the settings setup needs are invalid.
 */
export async function startSetupIfNeeded(
  env: Record<string, string | undefined> = process.env,
  options: { envPath?: string } = {},
): Promise<RunningSetup | undefined> {
  const config = loadSetupConfig(env);
  if (!needsSetup(config)) return undefined;
  const log = createLogger({ level: config.logLevel, redactor: new Redactor() }).child({ role: 'setup' });
  const setup = await startSetupServer({
    ...setupServerOptions(config, { env, envPath: options.envPath ?? '.env' }),
    log,
  });
  log.info(
    { url: setup.setupUrl },
    `Forge has no GitHub App yet (APP_ID and PRIVATE_KEY are not set). Open ${setup.setupUrl} in a browser to register one.`,
  );
  const stop = () => {
    void setup.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return setup;
}

/** The setup server's options from Forge's settings (HOST, PORT, GHE_*, FORGE_PUBLIC_URL, WEBHOOK_PROXY_URL). */
export function setupServerOptions(
  config: SetupConfig,
  options: { env: Record<string, string | undefined>; envPath: string },
): SetupServerOptions {
  return {
    host: config.host,
    port: config.port,
    envPath: options.envPath,
    github: githubUrls(config),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.webhookProxyUrl ? { webhookProxyUrl: config.webhookProxyUrl } : {}),
    env: options.env,
  };
}

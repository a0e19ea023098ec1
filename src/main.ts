import { startForge } from './app.js';
import { ConfigError, type ForgeConfig, loadConfig } from './config/load.js';
import { loadDotEnv } from './setup/env-file.js';
import { startSetupIfNeeded } from './setup/index.js';

/** `npm start`: parse configuration once, start the configured role, stop cleanly on SIGTERM. */
async function main(): Promise<void> {
  // `.env` (written by setup mode) fills in what the environment does not set.
  loadDotEnv('.env');
  // No GitHub App yet: serve the registration flow instead (src/setup/).
  if (await startSetupIfNeeded(process.env)) return;
  let config: ForgeConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const forge = await startForge(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    forge.log.info({ signal }, 'shutting down');
    await forge.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

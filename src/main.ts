import { startForge } from './app.js';
import { ConfigError, type ForgeConfig, loadConfig } from './config/load.js';

/** `npm start`: parse configuration once, start the configured role, stop cleanly on SIGTERM. */
async function main(): Promise<void> {
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

/**
 * OpenCode's global configuration in the per-task home (`~/.config/opencode/opencode.json`): one
 * OpenAI-compatible provider, `forge`, whose base URL is Forge's model gateway and whose key is read
 * from the environment (`{env:FORGE_MODEL_TOKEN}`), so the turn's token is never written to disk.
 * The turn's model is declared under it and used for the main and the small (title) model alike.
 *
 * OpenCode merges every config it finds, so an operator's own (a managed `/etc/opencode` config in
 * the image, `OPENCODE_CONFIG`) and a repository's `opencode.json` still apply on top of this one;
 * the runner always passes `--model forge/<model>`, so the model traffic goes to the gateway.
 *
 * At start OpenCode also installs `@opencode-ai/plugin` into each config directory with npm, in the
 * background, unless the directory's package.json and package-lock.json already list it and
 * `node_modules` exists. Those three are seeded here: the sandbox has no registry to reach, and the
 * package only serves custom plugins, which Forge does not configure.
 */
import type { SandboxSession } from '../sandbox/types.js';
import { ensureHomeDir, writeHomeFile } from './cli-home.js';

export const OPENCODE_CONFIG_DIR = '.config/opencode';
export const OPENCODE_CONFIG_FILE = `${OPENCODE_CONFIG_DIR}/opencode.json`;
/** The provider id in `--model forge/<model>`. */
export const OPENCODE_PROVIDER = 'forge';
/** The environment variable the provider's apiKey is read from. */
export const OPENCODE_TOKEN_ENV = 'FORGE_MODEL_TOKEN';

export function openCodeConfig(options: { baseUrl: string; model: string }): Record<string, unknown> {
  const model = `${OPENCODE_PROVIDER}/${options.model}`;
  return {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model,
    small_model: model,
    provider: {
      [OPENCODE_PROVIDER]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Forge model gateway',
        options: { baseURL: options.baseUrl, apiKey: `{env:${OPENCODE_TOKEN_ENV}}` },
        models: { [options.model]: { name: options.model } },
      },
    },
  };
}

export async function writeOpenCodeConfig(
  session: SandboxSession,
  options: { baseUrl: string; model: string },
): Promise<void> {
  await writeHomeFile(session, OPENCODE_CONFIG_FILE, `${JSON.stringify(openCodeConfig(options), null, 2)}\n`);
  const dependency = { '@opencode-ai/plugin': '*' };
  await writeHomeFile(
    session,
    `${OPENCODE_CONFIG_DIR}/package.json`,
    `${JSON.stringify({ dependencies: dependency })}\n`,
  );
  await writeHomeFile(
    session,
    `${OPENCODE_CONFIG_DIR}/package-lock.json`,
    `${JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: dependency } } })}\n`,
  );
  await ensureHomeDir(session, `${OPENCODE_CONFIG_DIR}/node_modules`);
}

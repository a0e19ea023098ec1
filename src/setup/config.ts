import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ForgeConfig, githubApiBase } from '../config/load.js';
import { SETTINGS, type SettingDef } from '../config/settings.js';

/**
 * The few settings setup mode needs. They are parsed with the same definitions as `loadConfig`, but
 * alone: setup must start while the rest of the configuration (the agent command, say) is not
 * written yet.
 */
const KEYS = [
  'appId',
  'privateKey',
  'privateKeyPath',
  'role',
  'host',
  'port',
  'logLevel',
  'gheHost',
  'gheProtocol',
  'publicUrl',
  'webhookProxyUrl',
  'gitlabToken',
] as const;

export type SetupConfig = Pick<ForgeConfig, (typeof KEYS)[number]>;

export function loadSetupConfig(env: Record<string, string | undefined> = process.env): SetupConfig {
  const problems: string[] = [];
  let yaml: Record<string, unknown> = {};
  if (env.FORGE_CONFIG) {
    try {
      const doc: unknown = parseYaml(readFileSync(env.FORGE_CONFIG, 'utf8'));
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) yaml = doc as Record<string, unknown>;
    } catch {
      // loadConfig reports an unreadable FORGE_CONFIG; setup only needs the environment.
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const def: SettingDef = SETTINGS[key];
    const envValue = env[def.env];
    const raw =
      envValue !== undefined && envValue !== '' ? envValue : ((def.yaml && yaml[def.yaml]) ?? def.default);
    if (raw === undefined) continue;
    const result = def.schema.safeParse(raw);
    if (result.success) out[key] = result.data;
    else problems.push(`${def.env}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return out as SetupConfig;
}

/**
 * Setup mode is for a Forge that has no GitHub App yet: no App id and no private key at all, and a
 * role that answers HTTP (a worker has no browser to talk to). A half-configured App is a
 * configuration error instead, reported as usual. A GitLab-only Forge (GITLAB_TOKEN set) needs none.
 */
export function needsSetup(config: SetupConfig): boolean {
  return (
    config.role !== 'worker' &&
    config.appId === undefined &&
    config.privateKey === undefined &&
    config.privateKeyPath === undefined &&
    config.gitlabToken === undefined
  );
}

/** github.com, or the GitHub Enterprise Server named by `GHE_HOST`. */
export function githubUrls(config: Pick<SetupConfig, 'gheHost' | 'gheProtocol'>): {
  web: string;
  api: string;
} {
  return {
    web: config.gheHost ? `${config.gheProtocol}://${config.gheHost}` : 'https://github.com',
    api: githubApiBase(config as ForgeConfig),
  };
}

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { sandboxNetworkProblems } from './sandbox-network.js';
import { SETTINGS, type SettingDef, type SettingKey } from './settings.js';

/** The provider key each model agent's requests are forwarded with. */
const PROVIDER_KEY_OF_AGENT = {
  'claude-code': 'anthropicApiKey',
  codex: 'openaiApiKey',
  opencode: 'openaiApiKey',
  gemini: 'geminiApiKey',
} as const satisfies Record<string, SettingKey>;

type Parsed<K extends SettingKey> = z.output<(typeof SETTINGS)[K]['schema']>;
type WithDefault = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { default: string } ? K : never;
}[SettingKey];

/** Operator configuration, parsed once at start-up. */
export type ForgeConfig = { [K in WithDefault]: Parsed<K> } & {
  [K in Exclude<SettingKey, WithDefault>]?: Parsed<K>;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Forge configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads `FORGE_CONFIG` (YAML) if set, then the environment (env wins), validates every key and
 * throws a ConfigError naming each bad key and the expected form.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ForgeConfig {
  const problems: string[] = [];
  const fromYaml = readYaml(env.FORGE_CONFIG, problems);
  const out: Record<string, unknown> = {};

  for (const [key, def] of Object.entries(SETTINGS) as [SettingKey, SettingDef][]) {
    const envValue = env[def.env];
    const yamlValue = def.yaml ? fromYaml[def.yaml] : undefined;
    const raw = envValue !== undefined && envValue !== '' ? envValue : (yamlValue ?? def.default);
    if (raw === undefined) continue;
    const result = def.schema.safeParse(raw);
    if (result.success) {
      out[key] = result.data;
    } else {
      const where = envValue ? def.env : `${def.yaml} (in ${env.FORGE_CONFIG})`;
      const shown = def.secret ? '' : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${where}: ${result.error.issues[0]?.message ?? 'invalid value'}${shown}`);
    }
  }
  if (out.privateKey === undefined && out.privateKeyPath !== undefined) {
    try {
      out.privateKey = readFileSync(String(out.privateKeyPath), 'utf8');
    } catch (error) {
      problems.push(`PRIVATE_KEY_PATH: cannot read ${out.privateKeyPath} (${(error as Error).message})`);
    }
  }
  if (typeof out.privateKey === 'string') out.privateKey = out.privateKey.replace(/\\n/g, '\n');
  for (const unknown of Object.keys(fromYaml)) {
    if (!Object.values(SETTINGS).some((d: SettingDef) => d.yaml === unknown)) {
      problems.push(`${unknown} (in ${env.FORGE_CONFIG}): unknown setting`);
    }
  }
  // The default agent is always allowed; the list only adds choices.
  if (typeof out.agent === 'string' && Array.isArray(out.allowedAgents)) {
    out.allowedAgents = [...new Set([out.agent, ...out.allowedAgents])];
  }
  const role = out.role;
  const allowed = (out.allowedAgents as string[] | undefined) ?? [];
  if (role !== 'web' && allowed.includes('command') && out.agentCommand === undefined) {
    problems.push(
      'FORGE_AGENT_COMMAND: required when the `command` agent is allowed (FORGE_AGENT or FORGE_ALLOWED_AGENTS): a shell command run in the checkout',
    );
  }
  if (role !== 'web') {
    // The gateway holds each provider's key; an allowed agent without one could never reach its model.
    for (const [agent, key] of Object.entries(PROVIDER_KEY_OF_AGENT)) {
      const setting = SETTINGS[key];
      if (allowed.includes(agent) && out[key] === undefined)
        problems.push(
          `${setting.env}: required when the \`${agent}\` agent is allowed (FORGE_AGENT or FORGE_ALLOWED_AGENTS): the model gateway uses it upstream; agents never see it`,
        );
    }
  }
  problems.push(
    ...sandboxNetworkProblems({
      role: String(role),
      sandbox: String(out.sandbox),
      sandboxNetwork: String(out.sandboxNetwork),
      allowedAgents: allowed,
      gatewayUrl: out.gatewayUrl as string | undefined,
    }),
  );
  if (problems.length) throw new ConfigError(problems);
  return out as ForgeConfig;
}

export interface GitHubAppCredentials {
  appId: number;
  privateKey: string;
  webhookSecret: string;
}

export interface GitLabBotCredentials {
  /** Instance URL without a trailing slash, e.g. `https://gitlab.com`. */
  url: string;
  token: string;
  webhookSecret: string;
  /** The bot user's rate limits on the instance. */
  limits: { requestsPerMinute: number; notesPerMinute: number };
}

/** GitHub App credentials are required to talk to GitHub; checked where the App is built. */
export function requireGitHubApp(config: ForgeConfig): GitHubAppCredentials {
  const missing = [
    config.appId === undefined && 'APP_ID: required (the GitHub App id)',
    config.privateKey === undefined && 'PRIVATE_KEY or PRIVATE_KEY_PATH: required (the App private key, PEM)',
    config.webhookSecret === undefined && 'WEBHOOK_SECRET: required (the App webhook secret)',
  ].filter((p): p is string => typeof p === 'string');
  if (missing.length) throw new ConfigError(missing);
  return { appId: config.appId!, privateKey: config.privateKey!, webhookSecret: config.webhookSecret! };
}

/**
 * The forges this Forge talks to: GitHub when any App setting is given (then all are required, with
 * the usual errors), GitLab when its token or secret is given (then both are). At least one.
 */
export function configuredForges(config: ForgeConfig): {
  github?: GitHubAppCredentials;
  gitlab?: GitLabBotCredentials;
} {
  const problems: string[] = [];
  const wantsGitHub =
    config.appId !== undefined || config.privateKey !== undefined || config.webhookSecret !== undefined;
  const wantsGitLab = config.gitlabToken !== undefined || config.gitlabWebhookSecret !== undefined;
  let github: GitHubAppCredentials | undefined;
  if (wantsGitHub) {
    try {
      github = requireGitHubApp(config);
    } catch (error) {
      problems.push(...(error as ConfigError).problems);
    }
  }
  if (wantsGitLab) {
    if (config.gitlabToken === undefined)
      problems.push('GITLAB_TOKEN: required with GITLAB_WEBHOOK_SECRET (the GitLab bot user’s token)');
    if (config.gitlabWebhookSecret === undefined)
      problems.push('GITLAB_WEBHOOK_SECRET: required with GITLAB_TOKEN (the GitLab webhook’s secret token)');
  }
  if (!wantsGitHub && !wantsGitLab) {
    problems.push(
      'no forge configured: set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET (a GitHub App), or GITLAB_TOKEN and GITLAB_WEBHOOK_SECRET (GitLab), or both',
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    ...(github ? { github } : {}),
    ...(wantsGitLab
      ? {
          gitlab: {
            url: config.gitlabUrl.replace(/\/+$/, ''),
            token: config.gitlabToken!,
            webhookSecret: config.gitlabWebhookSecret!,
            limits: {
              requestsPerMinute: config.gitlabRequestsPerMinute,
              notesPerMinute: config.gitlabNotesPerMinute,
            },
          },
        }
      : {}),
  };
}

/** API base URL: github.com, or GitHub Enterprise Server at `<protocol>://<host>/api/v3`. */
export function githubApiBase(config: ForgeConfig): string {
  return config.gheHost ? `${config.gheProtocol}://${config.gheHost}/api/v3` : 'https://api.github.com';
}

function readYaml(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (!path) return {};
  try {
    const doc = parseYaml(readFileSync(path, 'utf8')) ?? {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push(`FORGE_CONFIG: ${path} must hold a YAML mapping of settings`);
      return {};
    }
    return doc as Record<string, unknown>;
  } catch (error) {
    problems.push(`FORGE_CONFIG: cannot read ${path} (${(error as Error).message.split('\n')[0]})`);
    return {};
  }
}

/**
 * Every operator setting, once: env name, YAML key, default, meaning and parser. The zod schema,
 * the config loader and the README's configuration table are all derived from this list.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

const duration = (form = 'a duration like 90s, 15m, 2h or 7d') =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected ${form}` });
      return z.NEVER;
    }
    return ms;
  });

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: `expected a whole number from ${min} to ${max}` })
    .int({ message: `expected a whole number from ${min} to ${max}` })
    .min(min, { message: `expected a whole number from ${min} to ${max}` })
    .max(max, { message: `expected a whole number from ${min} to ${max}` });

const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const url = z.url({ message: 'expected an absolute URL such as https://forge.example.com' });

export interface SettingDef {
  env: string;
  yaml?: string;
  default?: string;
  meaning: string;
  schema: z.ZodType;
  /** Secrets are never printed, not even in config errors. */
  secret?: boolean;
}

export const SETTINGS = {
  // Probot's own variables, read as Probot documents them.
  appId: { env: 'APP_ID', meaning: 'GitHub App id (from the App settings page).', schema: int(1, 2 ** 53) },
  privateKey: {
    env: 'PRIVATE_KEY',
    meaning: 'GitHub App private key (PEM). `\\n` escapes are accepted.',
    schema: z.string().min(1),
    secret: true,
  },
  privateKeyPath: {
    env: 'PRIVATE_KEY_PATH',
    meaning: 'Path to the private key PEM file, instead of `PRIVATE_KEY`.',
    schema: z.string().min(1),
  },
  webhookSecret: {
    env: 'WEBHOOK_SECRET',
    meaning: 'Secret GitHub signs webhook deliveries with (`X-Hub-Signature-256`).',
    schema: z.string().min(1),
    secret: true,
  },
  webhookProxyUrl: {
    env: 'WEBHOOK_PROXY_URL',
    meaning: 'smee.io channel for local development; Forge forwards its deliveries to itself.',
    schema: url,
  },
  gheHost: {
    env: 'GHE_HOST',
    meaning: 'GitHub Enterprise Server host name; the API becomes `<protocol>://<host>/api/v3`.',
    schema: z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected a host name such as ghe.example.com'),
  },
  gheProtocol: {
    env: 'GHE_PROTOCOL',
    default: 'https',
    meaning: 'Protocol for `GHE_HOST`.',
    schema: z.enum(['https', 'http']),
  },
  port: {
    env: 'PORT',
    default: '3000',
    meaning: 'HTTP port for webhooks, the API and health checks.',
    schema: int(0, 65535),
  },
  host: {
    env: 'HOST',
    default: '0.0.0.0',
    meaning: 'Address the HTTP server binds to.',
    schema: z.string().min(1),
  },
  logLevel: {
    env: 'LOG_LEVEL',
    default: 'info',
    meaning: 'pino log level.',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  },
  redisUrl: {
    env: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    meaning: "Redis for the queue, the task store and Probot's cross-process request throttling.",
    schema: z.string().regex(/^rediss?:\/\//, 'expected redis://[:password@]host:port[/db]'),
    secret: true,
  },

  // Forge's own settings.
  role: {
    env: 'FORGE_ROLE',
    yaml: 'role',
    default: 'all',
    meaning: '`web` answers webhooks, `worker` runs turns, `all` does both in one process.',
    schema: z.enum(['all', 'web', 'worker']),
  },
  concurrency: {
    env: 'FORGE_CONCURRENCY',
    yaml: 'concurrency',
    default: '2',
    meaning: 'Turns one worker runs at the same time.',
    schema: int(1, 64),
  },
  workspaceDir: {
    env: 'FORGE_WORKSPACE_DIR',
    yaml: 'workspaceDir',
    default: './.forge/workspaces',
    meaning: "Where checkouts and the agents' per-task home directories live.",
    schema: z.string().min(1),
  },
  sandbox: {
    env: 'FORGE_SANDBOX',
    yaml: 'sandbox',
    default: 'local',
    meaning: '`local` runs the agent as a host process (development only); `docker` is planned.',
    schema: z.enum(['local']),
  },
  agent: {
    env: 'FORGE_AGENT',
    yaml: 'agent',
    default: 'command',
    meaning: 'Default agent.',
    schema: z.enum(['command']),
  },
  allowedAgents: {
    env: 'FORGE_ALLOWED_AGENTS',
    yaml: 'allowedAgents',
    default: 'command',
    meaning: 'Agents a comment may pick with `--agent` (comma-separated).',
    schema: list.pipe(z.array(z.enum(['command'])).min(1)),
  },
  agentCommand: {
    env: 'FORGE_AGENT_COMMAND',
    yaml: 'agentCommand',
    meaning: 'Shell command the `command` agent runs in the checkout (gets `FORGE_PROMPT_FILE`).',
    schema: z.string().min(1),
  },
  triggerLabel: {
    env: 'FORGE_TRIGGER_LABEL',
    yaml: 'triggerLabel',
    default: 'forge',
    meaning: 'Adding this label to an issue starts a task with the issue as the instruction.',
    schema: z.string().min(1).max(50),
  },
  repoTriggerLabels: {
    env: 'FORGE_REPO_TRIGGER_LABELS',
    yaml: 'repoTriggerLabels',
    default: '',
    meaning:
      "Labels a repository's `.github/forge.yml` may pick as its `triggerLabel` besides `FORGE_TRIGGER_LABEL` (comma-separated); only these labels reach Forge's webhook queue.",
    schema: list.pipe(z.array(z.string().min(1).max(50))),
  },
  publicUrl: {
    env: 'FORGE_PUBLIC_URL',
    yaml: 'publicUrl',
    meaning: 'Public base URL of this Forge; links to task logs use it.',
    schema: url,
  },
  taskTtl: {
    env: 'FORGE_TASK_TTL',
    yaml: 'taskTtl',
    default: '30d',
    meaning: 'How long finished tasks (PR merged or closed) and their logs are kept.',
    schema: duration(),
  },
  turnTimeout: {
    env: 'FORGE_TURN_TIMEOUT',
    yaml: 'turnTimeout',
    default: '60m',
    meaning: 'Wall-clock limit for one turn of the agent; its work so far is kept.',
    schema: duration(),
  },
  idleTimeout: {
    env: 'FORGE_IDLE_TIMEOUT',
    yaml: 'idleTimeout',
    default: '15m',
    meaning: 'Stop a turn whose agent printed nothing for this long; its work so far is kept.',
    schema: duration(),
  },
  gitMirror: {
    env: 'FORGE_GIT_MIRROR',
    yaml: 'gitMirror',
    default: 'true',
    meaning:
      'Keep a bare mirror of each repository in the workspace dir and clone turns from it (fast starts on big repositories).',
    schema: bool,
  },
  jobLock: {
    env: 'FORGE_JOB_LOCK',
    yaml: 'jobLock',
    default: '60s',
    meaning:
      "How long a worker's claim on a running turn lasts unrenewed; a crashed worker's turn is picked up again after about this long.",
    schema: duration(),
  },
  shutdownGrace: {
    env: 'FORGE_SHUTDOWN_GRACE',
    yaml: 'shutdownGrace',
    default: '30s',
    meaning: 'On SIGTERM, how long running turns may finish before they are stopped (their work is pushed).',
    schema: duration(),
  },
  draftPullRequests: {
    env: 'FORGE_DRAFT_PRS',
    yaml: 'draftPullRequests',
    default: 'false',
    meaning: 'Open pull requests as drafts.',
    schema: bool,
  },
  gitAuthorName: {
    env: 'FORGE_GIT_AUTHOR_NAME',
    yaml: 'gitAuthorName',
    default: 'forge[bot]',
    meaning: "Commit author name (use your App's `<slug>[bot]`).",
    schema: z.string().min(1),
  },
  gitAuthorEmail: {
    env: 'FORGE_GIT_AUTHOR_EMAIL',
    yaml: 'gitAuthorEmail',
    default: 'forge[bot]@users.noreply.github.com',
    meaning: 'Commit author email (`<bot-user-id>+<slug>[bot]@users.noreply.github.com`).',
    schema: z.string().min(3),
  },
  botLogins: {
    env: 'FORGE_BOT_LOGINS',
    yaml: 'botLogins',
    default: '',
    meaning: "Extra logins Forge ignores as bots (its own App's `<slug>[bot]` is always ignored).",
    schema: list,
  },
} satisfies Record<string, SettingDef>;

export type SettingKey = keyof typeof SETTINGS;

/**
 * Every operator setting, once: env name, YAML key, default, meaning and parser. The zod schema,
 * the config loader and the README's configuration table are all derived from this list.
 */
import { z } from 'zod';
import { parseEgressRule } from '../gateway/allowlist.js';
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

export const AGENT_NAMES = ['claude-code', 'codex', 'gemini', 'opencode', 'command'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** `a=b,c=d` (or a YAML mapping) → { a: 'b', c: 'd' }. */
const pairs = (form: string) =>
  z.union([z.string(), z.record(z.string(), z.string())]).transform((v, ctx) => {
    if (typeof v !== 'string') return v;
    const out: Record<string, string> = {};
    for (const item of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = item.indexOf('=');
      if (eq <= 0 || eq === item.length - 1) {
        ctx.addIssue({
          code: 'custom',
          message: `expected ${form} pairs separated by commas (got "${item}")`,
        });
        return z.NEVER;
      }
      out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
    }
    return out;
  });

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
  // GitLab (GitLab.com or self-managed): a bot user's token and the project/group webhook's secret.
  gitlabUrl: {
    env: 'GITLAB_URL',
    default: 'https://gitlab.com',
    meaning:
      'GitLab instance Forge works on: `https://gitlab.com` or a self-managed URL (with its path prefix, if any).',
    schema: url,
  },
  gitlabToken: {
    env: 'GITLAB_TOKEN',
    meaning:
      'Token of the GitLab bot user (a project or group access token, or a bot account’s personal token) with the `api` scope and the Developer role or higher.',
    schema: z.string().min(1),
    secret: true,
  },
  gitlabWebhookSecret: {
    env: 'GITLAB_WEBHOOK_SECRET',
    meaning: 'Secret token of the GitLab webhook; GitLab sends it in `X-Gitlab-Token`.',
    schema: z.string().min(1),
    secret: true,
  },
  gitlabRequestsPerMinute: {
    env: 'GITLAB_REQUESTS_PER_MINUTE',
    default: '2000',
    meaning:
      "The bot user's authenticated API request limit per minute on the instance (GitLab.com's by default; a self-managed admin sets their own). Forge stays under it.",
    schema: int(10, 1_000_000),
  },
  gitlabNotesPerMinute: {
    env: 'GITLAB_NOTES_PER_MINUTE',
    default: '60',
    meaning: "The bot user's note creation limit per minute on the instance (GitLab.com's by default).",
    schema: int(3, 100_000),
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
    meaning:
      '`docker` runs each turn in a hardened container (production); `local` runs the agent as a host process with access to its files and network (development only).',
    schema: z.enum(['local', 'docker']),
  },
  dockerHost: {
    env: 'DOCKER_HOST',
    meaning:
      'Docker engine for `FORGE_SANDBOX=docker`, e.g. `unix:///var/run/docker.sock` or `tcp://127.0.0.1:2375` (default: the local socket).',
    schema: z
      .string()
      .regex(/^(unix|tcp|http|https|ssh):\/\/./, 'expected unix:///path/to/docker.sock or tcp://host:port'),
  },
  agentImage: {
    env: 'FORGE_AGENT_IMAGE',
    yaml: 'agentImage',
    default: 'forge-agent:latest',
    meaning:
      'Image the Docker sandbox runs agents in (`docker/Dockerfile.agent` builds one with all four CLIs).',
    schema: z.string().min(1),
  },
  agentImages: {
    env: 'FORGE_AGENT_IMAGES',
    yaml: 'agentImages',
    default: '',
    meaning: 'Per-agent images that override `FORGE_AGENT_IMAGE`, as `agent=image` pairs (comma-separated).',
    schema: pairs('agent=image'),
  },
  sandboxUser: {
    env: 'FORGE_SANDBOX_USER',
    yaml: 'sandboxUser',
    default: '1000:1000',
    meaning: 'uid:gid the agent runs as inside the container (never root).',
    schema: z
      .string()
      .regex(/^[1-9]\d{0,9}:\d{1,10}$/, 'expected uid:gid with a non-zero uid, such as 1000:1000'),
  },
  sandboxNetwork: {
    env: 'FORGE_SANDBOX_NETWORK',
    yaml: 'sandboxNetwork',
    default: 'none',
    meaning:
      'Docker network of agent containers: an internal network that reaches only the gateway (see docs/gateway.md), `none`, or `host` (tests only).',
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a Docker network name'),
  },
  sandboxMemory: {
    env: 'FORGE_SANDBOX_MEMORY_MB',
    yaml: 'sandboxMemoryMb',
    default: '4096',
    meaning: 'Memory limit of an agent container, in MiB.',
    schema: int(64, 1_048_576),
  },
  sandboxCpus: {
    env: 'FORGE_SANDBOX_CPUS',
    yaml: 'sandboxCpus',
    default: '2',
    meaning: 'CPU limit of an agent container (cores, fractions allowed).',
    schema: z.coerce.number({ message: 'expected a number of CPUs such as 1.5' }).positive().max(256),
  },
  sandboxPids: {
    env: 'FORGE_SANDBOX_PIDS',
    yaml: 'sandboxPids',
    default: '1024',
    meaning: 'Process limit of an agent container.',
    schema: int(16, 1_000_000),
  },
  agent: {
    env: 'FORGE_AGENT',
    yaml: 'agent',
    default: 'command',
    meaning:
      'Default agent: `claude-code`, `codex`, `gemini`, `opencode`, or `command` (your own shell command).',
    schema: z.enum(AGENT_NAMES),
  },
  allowedAgents: {
    env: 'FORGE_ALLOWED_AGENTS',
    yaml: 'allowedAgents',
    default: '',
    meaning:
      'Agents a comment may pick with `--agent` (comma-separated); empty allows just `FORGE_AGENT`. A repository can only choose among these.',
    schema: list.pipe(z.array(z.enum(AGENT_NAMES))),
  },
  agentModels: {
    env: 'FORGE_AGENT_MODELS',
    yaml: 'agentModels',
    default: '',
    meaning:
      'Default model per agent as `agent=model` pairs (comma-separated); `--model` in a comment or `model` in a repository overrides it.',
    schema: pairs('agent=model'),
  },
  agentCommand: {
    env: 'FORGE_AGENT_COMMAND',
    yaml: 'agentCommand',
    meaning: 'Shell command the `command` agent runs in the checkout (gets `FORGE_PROMPT_FILE`).',
    schema: z.string().min(1),
  },
  // The model gateway: agents reach their model only through it, so provider keys stay out of
  // the sandbox. The variables are each CLI's own standard names; base URLs are the upstreams.
  anthropicApiKey: {
    env: 'ANTHROPIC_API_KEY',
    meaning: 'Key the gateway uses for Anthropic (Claude Code). Never given to the agent.',
    schema: z.string().min(1),
    secret: true,
  },
  anthropicBaseUrl: {
    env: 'ANTHROPIC_BASE_URL',
    default: 'https://api.anthropic.com',
    meaning: 'Anthropic API the gateway forwards to.',
    schema: url,
  },
  openaiApiKey: {
    env: 'OPENAI_API_KEY',
    meaning:
      'Key the gateway uses for OpenAI or an OpenAI-compatible provider (Codex, OpenCode). Never given to the agent.',
    schema: z.string().min(1),
    secret: true,
  },
  openaiBaseUrl: {
    env: 'OPENAI_BASE_URL',
    default: 'https://api.openai.com/v1',
    meaning: 'OpenAI(-compatible) API the gateway forwards to, including `/v1`.',
    schema: url,
  },
  geminiApiKey: {
    env: 'GEMINI_API_KEY',
    meaning: 'Key the gateway uses for Gemini (Gemini CLI). Never given to the agent.',
    schema: z.string().min(1),
    secret: true,
  },
  geminiBaseUrl: {
    env: 'GOOGLE_GEMINI_BASE_URL',
    default: 'https://generativelanguage.googleapis.com',
    meaning: 'Gemini API the gateway forwards to.',
    schema: url,
  },
  gatewayHost: {
    env: 'FORGE_GATEWAY_HOST',
    yaml: 'gatewayHost',
    default: '127.0.0.1',
    meaning:
      "Address the worker's model gateway and egress proxy bind to (the agent network's side of the worker).",
    schema: z.string().min(1),
  },
  gatewayPort: {
    env: 'FORGE_GATEWAY_PORT',
    yaml: 'gatewayPort',
    default: '8089',
    meaning: 'Port of the model gateway and egress proxy (0: any free port).',
    schema: int(0, 65535),
  },
  gatewayUrl: {
    env: 'FORGE_GATEWAY_URL',
    yaml: 'gatewayUrl',
    meaning:
      'URL agents reach the gateway and egress proxy at, e.g. `http://172.30.0.2:8089` on an internal Docker network; no path (default: `http://<FORGE_GATEWAY_HOST>:<port>`, with 127.0.0.1 for 0.0.0.0).',
    schema: url,
  },
  egressAllow: {
    env: 'FORGE_EGRESS_ALLOW',
    yaml: 'egressAllow',
    default: '',
    meaning:
      'Hosts agents may reach through the egress proxy besides the gateway, e.g. `registry.npmjs.org,*.pypi.org,10.0.0.5:8080` (comma-separated; `*.x` matches names under x; without a port, 443 and 80; everything else is refused and noted in the turn log).',
    schema: list.superRefine((entries, ctx) => {
      for (const entry of entries) {
        try {
          parseEgressRule(entry);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return;
        }
      }
    }),
  },
  modelPrices: {
    env: 'FORGE_MODEL_PRICES',
    yaml: 'modelPrices',
    default: '',
    meaning:
      "Model prices that replace or extend the gateway's table, in US dollars per million tokens, as `model=input/output[/cached-input]` pairs (comma-separated), e.g. `gpt-5=1.25/10/0.125,my-model=0/0`; a name covers every model it prefixes.",
    schema: pairs('model=input/output').transform((prices, ctx) => {
      const out: Record<string, { input: number; output: number; cacheRead?: number }> = {};
      for (const [model, value] of Object.entries(prices)) {
        const parts = String(value)
          .split('/')
          .map((p) => p.trim());
        const nums = parts.map(Number);
        if (
          parts.length < 2 ||
          parts.length > 3 ||
          parts.some((p) => p === '') ||
          nums.some((n) => !(n >= 0))
        ) {
          ctx.addIssue({
            code: 'custom',
            message: `expected ${model}=input/output[/cached-input] in US dollars per million tokens, such as ${model}=3/15 (got "${value}")`,
          });
          return z.NEVER;
        }
        out[model] = {
          input: nums[0]!,
          output: nums[1]!,
          ...(nums[2] === undefined ? {} : { cacheRead: nums[2] }),
        };
      }
      return out;
    }),
  },
  maxAgentSteps: {
    env: 'FORGE_MAX_AGENT_STEPS',
    yaml: 'maxAgentSteps',
    default: '200',
    meaning: 'Most model requests (agent steps) in one turn; at the cap the turn stops and its work is kept.',
    schema: int(1, 100_000),
  },
  maxTaskCost: {
    env: 'FORGE_MAX_TASK_COST_USD',
    yaml: 'maxTaskCostUsd',
    default: '25',
    meaning: 'Most one task may spend on models over all its turns, in US dollars (measured by the gateway).',
    schema: z.coerce.number({ message: 'expected an amount in US dollars such as 12.5' }).positive(),
  },
  maxRepoDailyCost: {
    env: 'FORGE_MAX_REPO_DAILY_COST_USD',
    yaml: 'maxRepoDailyCostUsd',
    default: '100',
    meaning: 'Most all tasks of one repository may spend on models per UTC day, in US dollars.',
    schema: z.coerce.number({ message: 'expected an amount in US dollars such as 50' }).positive(),
  },
  maxTaskTokens: {
    env: 'FORGE_MAX_TASK_TOKENS',
    yaml: 'maxTaskTokens',
    default: '50000000',
    meaning:
      'Most tokens (input + output) one task may use over all its turns; caps models without a known price too.',
    schema: int(1, 2 ** 53),
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
      "Labels a repository's settings file (`.github/forge.yml`, `.gitlab/forge.yml`) may pick as its `triggerLabel` besides `FORGE_TRIGGER_LABEL` (comma-separated); only these labels reach Forge's webhook queue.",
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

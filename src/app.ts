import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { DestinationStream, Logger } from 'pino';
import { ClaudeCodeAgent } from './agents/claude-code.js';
import { CodexAgent } from './agents/codex.js';
import { CommandAgent } from './agents/command.js';
import { GeminiAgent } from './agents/gemini.js';
import { OpenCodeAgent } from './agents/opencode.js';
import type { AgentRunner } from './agents/types.js';
import { parseCommand } from './commands/parse.js';
import { configuredForges, type ForgeConfig, githubApiBase } from './config/load.js';
import type { AgentName } from './config/settings.js';
import { createProbot, GitHubForgeFactory } from './forge/github/app.js';
import { throttledOctokit } from './forge/github/octokit.js';
import { githubWebhookHandler } from './forge/github/webhooks.js';
import { GitLabForgeFactory } from './forge/gitlab/app.js';
import { gitlabWebhookHandler } from './forge/gitlab/webhooks.js';
import { ForgeRegistry } from './forge/registry.js';
import { gatewayOptionsFromConfig } from './gateway/config.js';
import { startModelGateway } from './gateway/server.js';
import { TaskLinks } from './http/links.js';
import { type Handler, startHttp } from './http/server.js';
import { Deduper } from './intake/dedupe.js';
import { createLogger } from './observability/logger.js';
import { Redactor } from './observability/redact.js';
import { StickyComments } from './progress/stickies.js';
import { DockerSandbox } from './sandbox/docker/docker-sandbox.js';
import { createSandbox, imageFor } from './sandbox/factory.js';
import { startOrphanReaper } from './sandbox/reaper.js';
import { RepoCostLedger } from './tasks/budget.js';
import { CancelBus } from './tasks/cancel.js';
import { homesDir, startHomeSweeper } from './tasks/home-sweeper.js';
import { createQueues } from './tasks/queues.js';
import { TurnScheduler } from './tasks/scheduler.js';
import { TaskStore } from './tasks/store.js';
import { type RunningWorker, startWorker, type WorkerTimings } from './worker/worker.js';

export interface ForgeOverrides {
  /** Where log lines go (after redaction); stdout by default. */
  logDestination?: DestinationStream;
  /** Redis key prefix (tests isolate runs with it). */
  prefix?: string;
  timings?: Partial<WorkerTimings>;
  minWriteIntervalMs?: number;
  /** Spacing of GitHub writes per installation (GitHub asks for 1 s). */
  githubWriteSpacingMs?: number;
  /** Spacing of GitLab writes per instance (default 1.1 s: under GitLab.com's 60 notes a minute). */
  gitlabWriteSpacingMs?: number;
  onTurnWrites?(writes: number): void;
}

export interface RunningForge {
  url?: string;
  store: TaskStore;
  log: Logger;
  close(): Promise<void>;
}

/** Composition root: builds everything from the parsed configuration and starts the role. */
export async function startForge(config: ForgeConfig, overrides: ForgeOverrides = {}): Promise<RunningForge> {
  const redactor = new Redactor();
  // GitHub, GitLab or both (a half-configured one is a ConfigError naming what is missing).
  const { github: app, gitlab } = configuredForges(config);
  for (const secret of [app?.webhookSecret, app?.privateKey, gitlab?.token, gitlab?.webhookSecret]) {
    if (secret) redactor.add(secret);
  }
  const log = createLogger({
    level: config.logLevel,
    redactor,
    ...(overrides.logDestination ? { destination: overrides.logDestination } : {}),
  });
  const prefix = overrides.prefix ?? 'forge:';
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const store = new TaskStore({ redis, prefix, ttlMs: config.taskTtl });
  const queues = createQueues(redis, prefix);
  const scheduler = new TurnScheduler(store, queues.turns);
  const stickies = new StickyComments(store, redis, prefix);
  const links = new TaskLinks((app?.webhookSecret ?? gitlab?.webhookSecret)!, config.publicUrl);
  const forges = new ForgeRegistry();
  if (app) {
    const Octokit = throttledOctokit({
      redis,
      prefix,
      ...(overrides.githubWriteSpacingMs !== undefined ? { spacingMs: overrides.githubWriteSpacingMs } : {}),
    });
    const probot = createProbot({ ...app, baseUrl: githubApiBase(config), Octokit, log });
    forges.register('github', new GitHubForgeFactory(probot));
  }
  if (gitlab) {
    const spacingMs = overrides.gitlabWriteSpacingMs;
    forges.register(
      'gitlab',
      new GitLabForgeFactory({
        url: gitlab.url,
        token: gitlab.token,
        limits: gitlab.limits,
        writes: { redis, prefix, ...(spacingMs !== undefined ? { spacingMs } : {}) },
        log: log.child({ forge: 'gitlab' }),
      }),
    );
  }
  const closers: (() => Promise<unknown>)[] = [];
  let url: string | undefined;
  const shutdown = async () => {
    for (const close of closers) await close().catch((error) => log.warn({ err: error }, 'close failed'));
    await queues.close();
    await redis.quit().catch(() => undefined);
  };

  // A start that fails half-way (a port in use, say) closes what it opened, so the process can exit.
  try {
    if (config.role !== 'worker') {
      const intake = {
        deduper: new Deduper({ redis, prefix, ttlMs: 7 * 86_400_000 }),
        events: queues.events,
        log: log.child({ role: 'web' }),
        parse: (body: string) => parseCommand(body, { allowedAgents: config.allowedAgents }),
        triggerLabel: config.triggerLabel,
        repoTriggerLabels: config.repoTriggerLabels,
      };
      const handlers: Handler[] = [];
      if (app) handlers.push(githubWebhookHandler({ ...intake, secret: app.webhookSecret }));
      if (gitlab)
        handlers.push(
          gitlabWebhookHandler({ ...intake, secret: gitlab.webhookSecret, instanceUrl: gitlab.url }),
        );
      const http = await startHttp({
        host: config.host,
        port: config.port,
        log,
        redis,
        store,
        links,
        handlers,
      });
      url = http.url;
      closers.push(http.close);
      log.info({ url: http.url }, 'Forge is listening');
      if (config.webhookProxyUrl && app)
        closers.push(await startSmee(config.webhookProxyUrl, `${http.url}/api/github/webhooks`, log));
    }

    if (config.role !== 'web') {
      const workspaceRoot = resolve(config.workspaceDir);
      mkdirSync(workspaceRoot, { recursive: true });
      const sandbox = createSandbox(config, log);
      if (sandbox instanceof DockerSandbox) {
        // Say at start-up, not on the first turn, that the engine or the image is missing.
        await sandbox
          .check()
          .catch((error: unknown) => log.warn({ err: error }, 'the Docker sandbox is not ready'));
      }
      // Containers of crashed workers (and of this worker's previous life) are removed now and then.
      const reaper = startOrphanReaper(sandbox, { log });
      closers.push(() => reaper.stop());
      // Agent homes keep CLI sessions between turns; they go once their task is closed or expired.
      const homes = startHomeSweeper({ homesDir: homesDir(workspaceRoot), store, log });
      closers.push(() => homes.stop());
      const agents = createAgents(config);
      const cancel = new CancelBus(redis, prefix);
      // Agents reach their model only through this gateway: provider keys stay in this process.
      const gateway = await startModelGateway(gatewayOptionsFromConfig(config, { log, redactor }));
      // The gateway closes after the turns: a turn pushing its work may still be streaming.
      closers.unshift(() => gateway.close());
      log.info({ url: gateway.url }, 'model gateway listening');
      const worker: RunningWorker = await startWorker({
        connection: redis,
        subscriber: redis.duplicate(),
        prefix,
        concurrency: config.concurrency,
        log,
        timings: {
          lockDurationMs: config.jobLock,
          stalledIntervalMs: Math.max(1000, Math.round(config.jobLock / 2)),
          shutdownGraceMs: config.shutdownGrace,
          ...overrides.timings,
        },
        triage: {
          forges,
          store,
          scheduler,
          stickies,
          cancel,
          log,
          allowedAgents: config.allowedAgents,
          defaultAgent: config.agent,
          triggerLabel: config.triggerLabel,
          repoTriggerLabels: config.repoTriggerLabels,
          turnTimeoutMs: config.turnTimeout,
          idleTimeoutMs: config.idleTimeout,
          maxAgentSteps: config.maxAgentSteps,
          maxTaskCostUsd: config.maxTaskCost,
          maxTaskTokens: config.maxTaskTokens,
          maxRepoDailyCostUsd: config.maxRepoDailyCost,
          botLogins: config.botLogins,
          logUrl: (id) => links.url(id),
        },
        turn: {
          store,
          stickies,
          scheduler,
          forges,
          sandbox,
          agents,
          cancel,
          redactor,
          log,
          workspaceRoot,
          gitAuthor: { name: config.gitAuthorName, email: config.gitAuthorEmail },
          draftPullRequests: config.draftPullRequests,
          gitMirror: config.gitMirror,
          turnTimeoutMs: config.turnTimeout,
          idleTimeoutMs: config.idleTimeout,
          maxAgentSteps: config.maxAgentSteps,
          maxTaskCostUsd: config.maxTaskCost,
          allowedAgents: config.allowedAgents,
          triggerLabel: config.triggerLabel,
          repoTriggerLabels: config.repoTriggerLabels,
          logUrl: (id) => links.url(id),
          budget: {
            limits: {
              maxAgentSteps: config.maxAgentSteps,
              maxTaskCostUsd: config.maxTaskCost,
              maxTaskTokens: config.maxTaskTokens,
              maxRepoDailyCostUsd: config.maxRepoDailyCost,
            },
            ledger: new RepoCostLedger(redis, prefix),
          },
          agentModels: config.agentModels,
          imageFor: (agent) => imageFor(config, agent),
          gateway,
          ...(overrides.minWriteIntervalMs !== undefined
            ? { minWriteIntervalMs: overrides.minWriteIntervalMs }
            : {}),
          ...(overrides.onTurnWrites ? { onTurnWrites: overrides.onTurnWrites } : {}),
        },
      });
      closers.unshift(() => worker.close());
    }
  } catch (error) {
    await shutdown();
    throw error;
  }

  return { url, store, log, close: shutdown };
}

/** Every agent a turn may pick: the allowed ones (the default agent is always among them). */
function createAgents(config: ForgeConfig): Map<string, AgentRunner> {
  const agents = new Map<string, AgentRunner>();
  if (config.agentCommand) agents.set('command', new CommandAgent({ command: config.agentCommand }));
  const runners: Record<Exclude<AgentName, 'command'>, () => AgentRunner> = {
    'claude-code': () => new ClaudeCodeAgent(),
    codex: () => new CodexAgent(),
    gemini: () => new GeminiAgent(),
    opencode: () => new OpenCodeAgent(),
  };
  for (const name of config.allowedAgents) {
    if (name !== 'command') agents.set(name, runners[name]());
  }
  return agents;
}

/** smee.io forwarding for local development (`WEBHOOK_PROXY_URL`). */
async function startSmee(source: string, target: string, log: Logger): Promise<() => Promise<void>> {
  const { default: SmeeClient } = await import('smee-client');
  const smee = new SmeeClient({
    source,
    target,
    logger: { info: (m: string) => log.info(m), error: (m: string) => log.error(m) },
  });
  const events = await smee.start();
  return async () => {
    await (events as { close?: () => unknown } | undefined)?.close?.();
  };
}

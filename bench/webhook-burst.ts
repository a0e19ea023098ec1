/**
 * Webhook answer time under a burst of signed `issue_comment.created` deliveries.
 *
 * Forge runs with FORGE_ROLE=web, so only the web path is measured (signature check, normalize,
 * parse, dedupe, enqueue) and no agent turn runs. Latency is measured client-side, from just
 * before each request to the end of its response body, by a sender in a process of its own
 * (bench/sender.mjs), so the client's work does not share Forge's event loop.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, EVENTS_QUEUE } from '../src/tasks/queues.js';
import { INSTALLATION, REPO, SECRET, startHarness } from '../test/e2e/harness.js';
import { buildDelivery, type Delivery, issueCommentCreated } from '../test/kit/webhooks.js';
import { profiled } from './profile.js';
import { type Summary, summarize } from './stats.js';

const execFileAsync = promisify(execFile);
const SENDER = join(import.meta.dirname, 'sender.mjs');

export interface BurstOptions {
  /** Fresh deliveries per run. */
  deliveries: number;
  /** Requests in flight per wave. */
  concurrency: number;
  /** Share of deliveries that are `/forge …` commands (the rest are ordinary comments). */
  commandShare: number;
  /** Redeliveries of earlier commands sent after each run (half same delivery id, half new id). */
  redeliveries: number;
  runs: number;
  /** Deliveries sent before the first measured run (JIT, connections, Redis scripts). */
  warmup: number;
  /** Deliveries sent one at a time after the runs: the unloaded answer time. */
  sequential: number;
}

export interface BurstRun {
  run: number;
  /** Raw latencies (ms) of this run's fresh deliveries, by kind. */
  samples: { command: number[]; ignored: number[] };
  all: Summary;
  commands: Summary;
  ignored: Summary;
  redeliveries: Summary;
  wallMs: number;
  commandCount: number;
  ignoredCount: number;
}

export interface BurstResult {
  options: BurstOptions;
  runs: BurstRun[];
  pooled: Summary;
  pooledCommands: Summary;
  pooledIgnored: Summary;
  /** One request in flight at a time. */
  sequential: Summary;
  /** Every non-200 answer (must be 0). */
  errors: number;
  commandsSent: number;
  redeliveriesSent: number;
  jobsInRedis: number;
  duplicatesLogged: number;
}

interface Planned {
  kind: 'command' | 'ignored' | 'redelivery';
  delivery: Delivery;
}

const NON_COMMANDS = [
  'Looks good to me, thanks!',
  'Could someone take a look at this? cc @forge',
  'I think the fix belongs in src/index.js.\n\n```js\nexport const answer = 43;\n```',
  '> /forge quoted, not a command\n\nJust quoting.',
];

export async function benchWebhookBurst(
  options: BurstOptions,
  progress: (line: string) => void = () => undefined,
): Promise<BurstResult> {
  const prefix = `bench${randomBytes(3).toString('hex')}:`;
  const h = await startHarness({ env: { FORGE_ROLE: 'web', LOG_LEVEL: 'info' }, overrides: { prefix } });
  const queueConnection = new Redis(h.redis.url, { maxRetriesPerRequest: null });
  const events = new Queue(EVENTS_QUEUE, { connection: queueConnection, prefix: bullPrefix(prefix) });
  try {
    const issue = h.github.addIssue(REPO, { title: 'Burst target', body: 'Many comments.', user: 'alice' });
    const repo = { ...h.repo, defaultBranch: 'main' };
    const sender = { login: 'alice', id: 1005, type: 'User' as const };
    let commandsSent = 0;
    const sentCommands: { delivery: Delivery; commentId: number; body: string }[] = [];

    /** A fresh comment in the fake and its signed delivery (signing happens before the clock starts). */
    const fresh = (i: number, isCommand: boolean): Planned => {
      const body = isCommand
        ? `/forge add changelog entry ${i} for the burst`
        : NON_COMMANDS[i % NON_COMMANDS.length]!;
      const { id: commentId } = h.github.addComment(REPO, issue.number, { body, user: 'alice' });
      const payload = issueCommentCreated({
        repo,
        installationId: INSTALLATION,
        issue: { number: issue.number, title: 'Burst target', body: 'Many comments.' },
        comment: { id: commentId, body },
        sender,
      });
      const delivery = buildDelivery({ event: 'issue_comment', payload, secret: SECRET });
      if (isCommand) sentCommands.push({ delivery, commentId, body });
      return { kind: isCommand ? 'command' : 'ignored', delivery };
    };
    // Evenly spread commands: delivery i is a command when the running share says so.
    const isCommandAt = (i: number) =>
      Math.floor((i + 1) * options.commandShare) > Math.floor(i * options.commandShare);

    let errors = 0;
    const send = async (
      planned: Planned[],
      concurrency = options.concurrency,
    ): Promise<{ kind: Planned['kind']; ms: number }[]> => {
      const file = join(tmpdir(), `forge-bench-${randomBytes(4).toString('hex')}.json`);
      writeFileSync(
        file,
        JSON.stringify({ url: h.webhookUrl, concurrency, deliveries: planned.map((p) => p.delivery) }),
      );
      try {
        const { stdout } = await execFileAsync(process.execPath, [SENDER, file], {
          maxBuffer: 64 * 1024 * 1024,
        });
        const results = JSON.parse(stdout) as { ms: number; status: number }[];
        return results.map((r, i) => {
          if (r.status !== 200) errors++;
          return { kind: planned[i]!.kind, ms: r.ms };
        });
      } finally {
        rmSync(file, { force: true });
      }
    };

    let index = 0;
    if (options.warmup > 0) {
      const warm = Array.from({ length: options.warmup }, () => fresh(index, isCommandAt(index++)));
      commandsSent += warm.filter((p) => p.kind === 'command').length;
      await send(warm);
    }

    const runs: BurstRun[] = [];
    let redeliveriesSent = 0;
    for (let run = 1; run <= options.runs; run++) {
      const planned = Array.from({ length: options.deliveries }, () => fresh(index, isCommandAt(index++)));
      const commandCount = planned.filter((p) => p.kind === 'command').length;
      commandsSent += commandCount;
      const started = performance.now();
      const results = await profiled(`webhook-burst-${run}`, () => send(planned));
      const wallMs = performance.now() - started;

      // Redeliveries of commands already accepted: the exact same delivery (GitHub's "Redeliver"),
      // and the same comment under a new delivery id. Both must be dropped.
      const redeliveries: Planned[] = [];
      for (let r = 0; r < options.redeliveries && sentCommands.length > 0; r++) {
        const original = sentCommands[Math.floor((r * sentCommands.length) / options.redeliveries)]!;
        const delivery =
          r % 2 === 0
            ? original.delivery
            : buildDelivery({
                event: 'issue_comment',
                payload: JSON.parse(original.delivery.body),
                secret: SECRET,
                deliveryId: randomUUID(),
              });
        redeliveries.push({ kind: 'redelivery', delivery });
      }
      redeliveriesSent += redeliveries.length;
      const redelivered = await send(redeliveries);

      const of = (kind: Planned['kind'], from = results) =>
        from.filter((r) => r.kind === kind).map((r) => r.ms);
      runs.push({
        run,
        samples: { command: of('command'), ignored: of('ignored') },
        all: summarize(results.map((r) => r.ms)),
        commands: summarize(of('command')),
        ignored: summarize(of('ignored')),
        redeliveries: summarize(of('redelivery', redelivered)),
        wallMs,
        commandCount,
        ignoredCount: planned.length - commandCount,
      });
      const last = runs[runs.length - 1]!;
      progress(
        `  burst run ${run}: ${planned.length} deliveries in ${Math.round(wallMs)} ms, ` +
          `p50 ${last.all.p50.toFixed(2)} ms, p99 ${last.all.p99.toFixed(2)} ms, max ${last.all.max.toFixed(2)} ms`,
      );
    }

    const one = Array.from({ length: options.sequential }, () => fresh(index, isCommandAt(index++)));
    commandsSent += one.filter((p) => p.kind === 'command').length;
    const sequential = await send(one, 1);

    const counts = await events.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'waiting-children',
      'completed',
      'failed',
    );
    const jobsInRedis = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const duplicatesLogged = h.logs.filter((l) => l.includes('duplicate delivery dropped')).length;
    return {
      options,
      runs,
      pooled: summarize(runs.flatMap((r) => [...r.samples.command, ...r.samples.ignored])),
      pooledCommands: summarize(runs.flatMap((r) => r.samples.command)),
      pooledIgnored: summarize(runs.flatMap((r) => r.samples.ignored)),
      sequential: summarize(sequential.map((r) => r.ms)),
      errors,
      commandsSent,
      redeliveriesSent,
      jobsInRedis,
      duplicatesLogged,
    };
  } finally {
    await events.close().catch(() => undefined);
    await queueConnection.quit().catch(() => undefined);
    await h.close();
  }
}

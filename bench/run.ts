/**
 * `npm run bench`: Forge's latency and API-cost figures, measured end to end against real Redis,
 * a real git server, a strict fake GitHub and Forge itself (see test/e2e/harness.ts). Loopback only.
 *
 *   1. webhook answer time under a burst of signed deliveries (FORGE_ROLE=web)
 *   2. time from webhook to agent start (full Forge)
 *   3. GitHub API writes per plain successful turn, and the turn's wall time
 *
 * BENCH_PROFILE_DIR=dir also writes a CPU profile of each measured burst (see bench/profile.ts).
 */
import { availableParallelism, loadavg } from 'node:os';
import { mean, ms, summarize, table } from './stats.js';
import { benchTurns, type TurnMarks, type TurnSample } from './turn-latency.js';
import { benchWebhookBurst } from './webhook-burst.js';

const DEADLINE_MS = 175_000;
const TARGET_WEBHOOK_P99_MS = 50;
const TARGET_AGENT_START_MS = 1000;

const log = (line: string) => process.stdout.write(`${line}\n`);
const watchdog = setTimeout(() => {
  log(`bench: did not finish within ${DEADLINE_MS / 1000} s, giving up`);
  process.exit(2);
}, DEADLINE_MS);
watchdog.unref();

const started = Date.now();
const problems: string[] = [];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

log('1/2  webhook burst (FORGE_ROLE=web) …');
const burst = await benchWebhookBurst(
  {
    deliveries: 500,
    concurrency: 50,
    commandShare: 0.8,
    redeliveries: 10,
    runs: 3,
    warmup: 50,
    sequential: 100,
  },
  log,
);
if (burst.errors > 0) problems.push(`${burst.errors} webhook deliveries were not answered 200`);
if (burst.jobsInRedis !== burst.commandsSent)
  problems.push(`${burst.jobsInRedis} jobs in Redis for ${burst.commandsSent} command deliveries`);

log('2/2  turns on full Forge (role all) …');
const turns = await benchTurns({ turns: 5, warmup: 1, minWriteIntervalMs: 1000, timeoutMs: 30_000 }, log);
const measured = turns.samples.filter((s) => !s.warmup);
const cold = turns.samples.filter((s) => s.warmup);
for (const s of turns.samples)
  if (s.state !== 'completed') problems.push(`turn on #${s.issue} ended ${s.state}, not completed`);
if (turns.violations > 0) problems.push(`the fake GitHub recorded ${turns.violations} contract violations`);

// ---------------------------------------------------------------------------------------------
// Report

const o = burst.options;
const line = (s: ReturnType<typeof summarize>) => `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;
log('');
log('== 1. Webhook answer time (client-side, sender in its own process; Forge FORGE_ROLE=web) ==');
log(
  `${o.runs} runs x ${o.deliveries} signed issue_comment.created deliveries, ${o.concurrency} in flight per wave, ` +
    `${Math.round(o.commandShare * 100)}% /forge commands; ${o.warmup} warm-up deliveries not counted`,
);
log(
  table([
    ['run', 'deliveries', 'wall', 'per delivery', 'p50', 'p90', 'p99', 'max', 'redelivery p50'],
    ...burst.runs.map((r) => [
      String(r.run),
      String(r.all.n),
      ms(r.wallMs),
      ms(r.wallMs / r.all.n),
      ms(r.all.p50),
      ms(r.all.p90),
      ms(r.all.p99),
      ms(r.all.max),
      ms(r.redeliveries.p50),
    ]),
    [
      'all',
      String(burst.pooled.n),
      '',
      '',
      ms(burst.pooled.p50),
      ms(burst.pooled.p90),
      ms(burst.pooled.p99),
      ms(burst.pooled.max),
      '',
    ],
    [
      '  commands (queued)',
      String(burst.pooledCommands.n),
      '',
      '',
      ms(burst.pooledCommands.p50),
      ms(burst.pooledCommands.p90),
      ms(burst.pooledCommands.p99),
      ms(burst.pooledCommands.max),
      '',
    ],
    [
      '  non-commands (ignored)',
      String(burst.pooledIgnored.n),
      '',
      '',
      ms(burst.pooledIgnored.p50),
      ms(burst.pooledIgnored.p90),
      ms(burst.pooledIgnored.p99),
      ms(burst.pooledIgnored.max),
      '',
    ],
    [
      'one at a time',
      String(burst.sequential.n),
      '',
      '',
      ms(burst.sequential.p50),
      ms(burst.sequential.p90),
      ms(burst.sequential.p99),
      ms(burst.sequential.max),
      '',
    ],
  ]),
);
log(
  `jobs in Redis: ${burst.jobsInRedis} for ${burst.commandsSent} command deliveries ` +
    `(${burst.jobsInRedis === burst.commandsSent ? 'equal' : 'MISMATCH'}); ` +
    `redeliveries sent ${burst.redeliveriesSent}, dropped as duplicates ${burst.redeliveriesSent - (burst.jobsInRedis - burst.commandsSent)} ` +
    `(log lines 'duplicate delivery dropped': ${burst.duplicatesLogged}); non-200 answers: ${burst.errors}`,
);

log('');
log('== 2. Webhook to agent start (full Forge, idle, one turn at a time on distinct issues) ==');
const markNames: [keyof TurnMarks, string][] = [
  ['webhookAnswered', 'webhook answered'],
  ['permissionChecked', 'permission checked (triage)'],
  ['eyesReaction', '👀 reaction'],
  ['turnStarted', "task log 'turn 1 started'"],
  ['cloneStarted', 'clone reaches git server'],
  ['agentStarted', 'agent first action (date +%s%3N)'],
  ['pullOpened', 'PR opened'],
  ['lastWrite', 'last GitHub write'],
  ['settled', "task log 'turn 1 completed' seen"],
];
const marks = (samples: TurnSample[], key: keyof TurnMarks) =>
  samples.map((s) => s.marks[key]).filter((v): v is number => v !== undefined);
log(
  table([
    ['ms after the webhook was sent', 'p50', 'max', 'cold (1st turn)'],
    ...markNames.map(([key, name]) => {
      const s = summarize(marks(measured, key));
      return [name, ms(s.p50), ms(s.max), ms(marks(cold, key)[0] ?? Number.NaN)];
    }),
  ]),
);

log('');
log('== 3. GitHub API writes per plain successful turn (comment → PR), production write spacing ==');
const operations = [...new Set(turns.samples.flatMap((s) => Object.keys(s.writes)))].sort();
log(
  table([
    ['operationId', `mean of ${measured.length}`, 'per turn', 'cold turn'],
    ...operations.map((op) => [
      op,
      mean(measured.map((s) => s.writes[op] ?? 0)).toFixed(1),
      measured.map((s) => s.writes[op] ?? 0).join(' '),
      String(cold[0]?.writes[op] ?? 0),
    ]),
    [
      'total writes',
      mean(measured.map((s) => s.writeCount)).toFixed(1),
      measured.map((s) => s.writeCount).join(' '),
      String(cold[0]?.writeCount ?? ''),
    ],
    [
      '(reads)',
      mean(measured.map((s) => s.reads)).toFixed(1),
      measured.map((s) => s.reads).join(' '),
      String(cold[0]?.reads ?? ''),
    ],
  ]),
);
const wall = summarize(marks(measured, 'lastWrite'));
const gaps = measured.map((s) => s.minWriteGapMs).filter((v): v is number => v !== undefined);
log(
  `turn wall time (webhook → last write): p50 ${ms(wall.p50)}, max ${ms(wall.max)}; ` +
    `smallest gap between two writes of a turn: ${ms(Math.min(...gaps))}; ` +
    `reporter's own progress writes per turn: ${mean(measured.map((s) => s.reporterWrites ?? 0)).toFixed(1)}`,
);

const agentStart = summarize(marks(measured, 'agentStarted'));
const turnStart = summarize(marks(measured, 'turnStarted'));
log('');
log('== Summary ==');
log(
  table([
    ['figure', 'value', 'target'],
    [
      `webhook answer (${o.runs}x${o.deliveries} deliveries, ${o.concurrency} in flight)`,
      line(burst.pooled),
      `p99 < ${TARGET_WEBHOOK_P99_MS} ms: ${burst.pooled.p99 < TARGET_WEBHOOK_P99_MS ? 'met' : 'MISSED'}`,
    ],
    ['webhook answer (one in flight)', line(burst.sequential), ''],
    [
      'jobs queued / command deliveries / redeliveries dropped',
      `${burst.jobsInRedis} / ${burst.commandsSent} / ${burst.redeliveriesSent - (burst.jobsInRedis - burst.commandsSent)} of ${burst.redeliveriesSent}`,
      'equal, all dropped',
    ],
    [
      `webhook → agent start (${agentStart.n} turns)`,
      `p50 ${ms(agentStart.p50)}, max ${ms(agentStart.max)}`,
      `< ${TARGET_AGENT_START_MS} ms: ${agentStart.max < TARGET_AGENT_START_MS ? 'met' : 'MISSED'}`,
    ],
    [
      `webhook → 'turn 1 started' (${turnStart.n} turns)`,
      `p50 ${ms(turnStart.p50)}, max ${ms(turnStart.max)}`,
      '',
    ],
    [
      'API writes per turn (mean)',
      `${mean(measured.map((s) => s.writeCount)).toFixed(1)} (+${(cold[0]?.writes['apps/create-installation-access-token'] ?? 0).toString()} token on a cold start)`,
      '',
    ],
    ['turn wall time (webhook → last write)', `p50 ${ms(wall.p50)}, max ${ms(wall.max)}`, ''],
  ]),
);
log(
  `bench took ${((Date.now() - started) / 1000).toFixed(1)} s on ${availableParallelism()} CPUs; ` +
    `load average before ${loadBefore}, after ${load()} (other work on the machine skews every figure)`,
);
if (problems.length) {
  log(`\nPROBLEMS:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
process.exit(0);

/**
 * `npm run bench:agents`: real agent CLIs in the Docker sandbox, through the model gateway, on a
 * worker process of its own (`node dist/src/main.js`, FORGE_ROLE=worker, as in production) against
 * the private test engine, a strict fake GitHub, a real git server and a scripted fake model.
 *
 *   1. from a turn's start (task log `turn N started`) to the CLI's first model request and to the
 *      first output line in the task log (that log is written in batches of ≤ 200 ms), warm image;
 *   2. the worker's memory (VmRSS, sampled every 50 ms) while 4 turns run at once, one per CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Harness, SECRET, startHarness } from '../test/e2e/harness.js';
import { startDockerEngine } from '../test/kit/docker.js';
import { ensureAgentImage } from '../test/kit/docker-builds.js';
import { scriptedBrain } from '../test/kit/fake-model/brain.js';
import { anthropicProtocol } from '../test/kit/fake-model/protocols/anthropic.js';
import { geminiProtocol } from '../test/kit/fake-model/protocols/gemini.js';
import { openaiChatProtocol } from '../test/kit/fake-model/protocols/openai-chat.js';
import { openaiResponsesProtocol } from '../test/kit/fake-model/protocols/openai-responses.js';
import { startFakeModel } from '../test/kit/fake-model/server.js';
import { ms, summarize, table } from './stats.js';

const AGENTS = ['claude-code', 'codex', 'gemini', 'opencode'] as const;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const TARGET_FIRST_OUTPUT_MS = 2000;
const TARGET_RSS_MB = 300;
const log = (line: string) => process.stdout.write(`${line}\n`);

log('building dist/ and the agent image …');
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const engine = await startDockerEngine();
const image = await ensureAgentImage(engine.docker);

const model = await startFakeModel({
  protocols: [anthropicProtocol, openaiResponsesProtocol, geminiProtocol, openaiChatProtocol],
});
const requestTimes: number[] = [];
model.setBrain((exchange) => {
  requestTimes.push(Date.now());
  return scriptedBrain(exchange);
});

const sandboxEnv = {
  FORGE_SANDBOX: 'docker',
  DOCKER_HOST: engine.host,
  FORGE_AGENT_IMAGE: image,
  FORGE_SANDBOX_NETWORK: 'host',
  FORGE_AGENT: 'claude-code',
  FORGE_ALLOWED_AGENTS: AGENTS.join(','),
  FORGE_AGENT_MODELS: 'codex=gpt-5.5,opencode=gpt-4.1,gemini=gemini-2.5-flash',
  ANTHROPIC_BASE_URL: model.url,
  ANTHROPIC_API_KEY: 'bench-anthropic-key',
  OPENAI_BASE_URL: `${model.url}/v1`,
  OPENAI_API_KEY: 'bench-openai-key',
  GOOGLE_GEMINI_BASE_URL: model.url,
  GEMINI_API_KEY: 'bench-gemini-key',
};
// The web side in this process (it shares Forge's default key prefix with the worker process).
const h: Harness = await startHarness({
  env: { FORGE_ROLE: 'web', ...sandboxEnv },
  overrides: { prefix: 'forge:', minWriteIntervalMs: 1000 },
});
const worker = spawn(process.execPath, ['dist/src/main.js'], {
  env: {
    PATH: process.env.PATH,
    APP_ID: String(h.github.appId),
    PRIVATE_KEY: h.github.privateKeyPem,
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: h.github.host,
    GHE_PROTOCOL: 'http',
    REDIS_URL: h.redis.url,
    FORGE_ROLE: 'worker',
    FORGE_CONCURRENCY: '4',
    FORGE_WORKSPACE_DIR: h.workspace,
    FORGE_GATEWAY_PORT: '0',
    LOG_LEVEL: 'info',
    ...sandboxEnv,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  worker.once('exit', (code) => reject(new Error(`the worker exited with ${code}`)));
  worker.stdout!.on('data', (d: Buffer) => {
    if (d.toString().includes('worker started')) resolve();
  });
});
worker.stdout!.resume();

const rssMb = () => {
  const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
};

/** One turn per agent on fresh issues; returns per-turn start → first request / first output. */
async function runTurns(agents: readonly string[]) {
  const issues = agents.map((agent) => ({ agent, issue: h.newIssue(`Bench ${agent}`) }));
  await Promise.all(
    issues.map(({ agent, issue }) =>
      h.comment({
        number: issue,
        body: `/forge --agent ${agent} [[write:BENCH.md:bench]] [[shell:ls]] [[say:Wrote BENCH.md]]`,
      }),
    ),
  );
  const out: {
    agent: string;
    toAgent?: number;
    toRequest?: number;
    toOutput?: number;
    state: string;
  }[] = [];
  for (const { agent, issue } of issues) {
    const task = await h.settled(issue, 1, 300_000);
    const events = await h.forge.store.events(task.id, { count: 100_000 });
    const started = Date.parse(events.find((e) => e.text.startsWith('turn 1 started'))?.at ?? '');
    const agentStart = Date.parse(events.find((e) => /^agent \S+ starting/.test(e.text))?.at ?? '');
    const firstOutput = Date.parse(events.find((e) => e.kind === 'output')?.at ?? '');
    const firstRequest = requestTimes.find((t) => t >= started);
    out.push({
      agent,
      state: task.turns[0]!.state,
      ...(Number.isFinite(agentStart) ? { toAgent: agentStart - started } : {}),
      ...(firstRequest ? { toRequest: firstRequest - started } : {}),
      ...(Number.isFinite(firstOutput) ? { toOutput: firstOutput - started } : {}),
    });
  }
  return out;
}

try {
  log('warm-up: one turn per agent …');
  for (const agent of AGENTS) await runTurns([agent]);

  log(`1/2  one turn at a time, ${ROUNDS} per agent …`);
  const sequential: Awaited<ReturnType<typeof runTurns>> = [];
  for (let round = 0; round < ROUNDS; round++)
    for (const agent of AGENTS) sequential.push(...(await runTurns([agent])));

  log('2/2  four turns at once (one per agent), sampling the worker …');
  await h.quiet(1000);
  const idle = rssMb();
  let peak = idle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, 50);
  const concurrent: Awaited<ReturnType<typeof runTurns>> = [];
  for (let round = 0; round < ROUNDS; round++) concurrent.push(...(await runTurns(AGENTS)));
  clearInterval(sampler);

  const rows = AGENTS.map((agent) => {
    const mine = sequential.filter((s) => s.agent === agent);
    const agentAt = summarize(mine.flatMap((s) => (s.toAgent === undefined ? [] : [s.toAgent])));
    const req = summarize(mine.flatMap((s) => (s.toRequest === undefined ? [] : [s.toRequest])));
    const outp = summarize(mine.flatMap((s) => (s.toOutput === undefined ? [] : [s.toOutput])));
    return [agent, ms(agentAt.p50), ms(agentAt.max), ms(req.p50), ms(req.max), ms(outp.p50), ms(outp.max)];
  });
  log('');
  log(
    'Turn start → the CLI starts in its container (clone, sandbox), → its first model request, → its first',
  );
  log('output line in the task log (Docker, warm image):');
  log(
    table([
      ['agent', 'exec p50', 'exec max', 'request p50', 'request max', 'output p50', 'output max'],
      ...rows,
    ]),
  );
  const failed = [...sequential, ...concurrent].filter((s) => s.state !== 'completed');
  // The target is about the first thing the user could see: the agent's first output line.
  const worst = Math.max(...sequential.map((s) => s.toOutput ?? Number.POSITIVE_INFINITY));
  const worstRequest = Math.max(...sequential.map((s) => s.toRequest ?? Number.POSITIVE_INFINITY));
  log(
    `target: first output < ${TARGET_FIRST_OUTPUT_MS} ms — ${worst < TARGET_FIRST_OUTPUT_MS ? 'met' : 'MISSED'} (worst first output ${ms(worst)}, worst first model request ${ms(worstRequest)})`,
  );
  log('');
  log(`Worker RSS: idle ${idle.toFixed(0)} MB, peak while 4 turns ran ${peak.toFixed(0)} MB`);
  log(`target: < ${TARGET_RSS_MB} MB — ${peak < TARGET_RSS_MB ? 'met' : 'MISSED'}`);
  if (failed.length) log(`problems: ${failed.length} turn(s) did not complete`);
  model.assertNoViolations();
  h.github.assertNoViolations();
} finally {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await h.close();
  await model.close();
}

/**
 * `npx tsx bench/docker-sandbox.ts [runs] [--quick]`: the Docker sandbox's cost per turn on the
 * machine's test engine (test/kit/docker.ts), with warm images:
 *
 *   - create() → first output line of a command (what a turn waits before the agent's first byte)
 *   - container overhead per turn: create + exec of a trivial command + destroy
 *   - the parts: create(), one exec of `true` in a running container, destroy()
 *
 * Measured with the tiny busybox image and with the production agent image built from
 * docker/Dockerfile.agent (1.6 GB, the four CLIs; `--quick` skips it). Loopback only.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerSandbox } from '../src/sandbox/docker/docker-sandbox.js';
import { startDockerEngine } from '../test/kit/docker.js';
import { ensureAgentImage } from '../test/kit/docker-builds.js';
import { ensureBusyboxImage } from '../test/kit/docker-images.js';
import { mean, ms, percentile, table } from './stats.js';

const TARGET_FIRST_OUTPUT_MS = 2000;

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
const quick = args.includes('--quick');
const log = (line: string) => process.stdout.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Sample {
  firstOutput: number;
  create: number;
  exec: number;
  destroy: number;
  perTurn: number;
}

async function measure(sandbox: DockerSandbox, root: string, i: number): Promise<Sample> {
  const checkoutDir = join(root, `checkout-${i}`);
  await mkdir(checkoutDir, { recursive: true });
  const spec = { checkoutDir, homeDir: join(root, 'home'), env: {}, labels: { 'forge.task': `bench-${i}` } };

  // create() → first line of output.
  const t0 = performance.now();
  const session = await sandbox.create(spec);
  const created = performance.now();
  let first = Number.NaN;
  await session.exec(['sh', '-c', 'echo first'], {
    onLine: () => {
      if (Number.isNaN(first)) first = performance.now();
    },
  });
  // One more command in the running container: the per-command cost.
  const e0 = performance.now();
  await session.exec(['true'], { onLine: () => {} });
  const e1 = performance.now();
  await session.destroy();
  const destroyed = performance.now();

  return {
    firstOutput: first - t0,
    create: created - t0,
    exec: e1 - e0,
    destroy: destroyed - e1,
    // A turn's overhead: create, a trivial command, destroy (without the second exec).
    perTurn: destroyed - t0 - (e1 - e0),
  };
}

async function bench(label: string, image: string): Promise<Sample[]> {
  const { docker } = await startDockerEngine();
  const root = await mkdtemp(join(tmpdir(), 'forge-bench-sbx-'));
  const sandbox = new DockerSandbox({
    docker,
    image,
    workerId: `bench-${process.pid}`,
    scratchRoot: join(root, 'scratch'),
    limits: { memoryMb: 2048, cpus: 2, pids: 512 },
  });
  try {
    await measure(sandbox, root, -1); // warm-up: first overlay mount, JIT
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) samples.push(await measure(sandbox, root, i));
    log(`  ${label}: ${runs} runs done`);
    return samples;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const row = (name: string, values: number[]) => [
  name,
  ms(percentile(values, 50)),
  ms(percentile(values, 95)),
  ms(mean(values)),
  ms(Math.max(...values)),
];

const loadBefore = load();
log(`Docker sandbox bench: ${runs} runs per image, ${availableParallelism()} cores, load ${loadBefore}`);
const { docker } = await startDockerEngine();
const images: Array<[string, string]> = [['busybox', await ensureBusyboxImage(docker)]];
if (!quick) {
  log('  building/finding the agent image (docker/Dockerfile.agent, offline) …');
  images.push(['agent image', await ensureAgentImage(docker)]);
}

let failed = false;
for (const [label, image] of images) {
  const samples = await bench(label, image);
  const pick = (k: keyof Sample) => samples.map((s) => s[k]);
  log('');
  log(`${label} (${image})`);
  log(
    table([
      ['', 'p50', 'p95', 'mean', 'max'],
      row('create() → first output line', pick('firstOutput')),
      row('per turn: create + exec + destroy', pick('perTurn')),
      row('  create()', pick('create')),
      row('  exec `true` (running container)', pick('exec')),
      row('  destroy()', pick('destroy')),
    ]),
  );
  const p50 = percentile(pick('firstOutput'), 50);
  const verdict = p50 < TARGET_FIRST_OUTPUT_MS ? 'met' : 'MISSED';
  if (p50 >= TARGET_FIRST_OUTPUT_MS) failed = true;
  log(`target: first output < ${TARGET_FIRST_OUTPUT_MS} ms (p50) — ${verdict}`);
}
log('');
log(`load average before ${loadBefore}, after ${load()}`);
process.exit(failed ? 1 : 0);

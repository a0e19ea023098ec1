/**
 * A LocalSandbox for the sandbox's own tests: sessions on a temporary checkout, running shell
 * scripts with their output collected, and waiting on processes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { LocalSandbox } from '../../src/sandbox/local/local-sandbox.js';
import type { ExecOptions, OutputStream, SandboxSession, SandboxSpec } from '../../src/sandbox/types.js';

export type Line = [OutputStream, string];

/** Registers before/after hooks for a temporary root; call at the top of a test file. */
export function localSandboxFixture() {
  const sandbox = new LocalSandbox({ killGraceMs: 200, drainGraceMs: 200 });
  const dirs = { root: '', checkoutDir: '' };
  before(async () => {
    dirs.root = await realpath(await mkdtemp(join(tmpdir(), 'forge-local-sandbox-test-')));
    dirs.checkoutDir = join(dirs.root, 'checkout');
    await mkdir(dirs.checkoutDir);
  });
  after(() => rm(dirs.root, { recursive: true, force: true }));

  const spec = (overrides: Partial<SandboxSpec> = {}): SandboxSpec => ({
    checkoutDir: dirs.checkoutDir,
    homeDir: join(dirs.root, 'home'),
    env: {},
    labels: { task: 't1' },
    ...overrides,
  });
  const withSession = async <T>(fn: (s: SandboxSession) => Promise<T>, s = spec()): Promise<T> => {
    const session = await sandbox.create(s);
    try {
      return await fn(session);
    } finally {
      await session.destroy();
    }
  };
  return { sandbox, dirs, spec, withSession };
}

/** Runs `sh -c script`, collecting every line. */
export async function run(session: SandboxSession, script: string, options: Partial<ExecOptions> = {}) {
  const lines: Line[] = [];
  const result = await session.exec(['sh', '-c', script], {
    ...options,
    onLine: (stream, line) => lines.push([stream, line]),
  });
  return { ...result, lines, stdout: lines.filter(([s]) => s === 'stdout').map(([, l]) => l) };
}

/** Alive and not a zombie (an orphaned zombie answers kill -0 until init reaps it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no procfs: trust kill -0
  }
}

export async function eventuallyDead(pid: number): Promise<void> {
  const deadline = Date.now() + 1_500;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(pid), false, `process ${pid} should be dead`);
}

/** The pid a command wrote to `file`, once it is there. */
export async function readPid(file: string): Promise<number> {
  const deadline = Date.now() + 1_000;
  while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const pid = Number((await readFile(file, 'utf8')).trim());
  assert.ok(pid > 0, `pid file ${file} should hold a pid`);
  return pid;
}

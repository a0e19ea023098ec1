import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TRUNCATED_MARKER } from '../lines.js';
import type { ExecOptions, OutputStream, SandboxSession, SandboxSpec } from '../types.js';
import { DEFAULT_PATH, LocalSandbox } from './local-sandbox.js';
import { EXEC_TAG_VAR } from './process-tag.js';

const sandbox = new LocalSandbox({ killGraceMs: 200, drainGraceMs: 200 });
let root: string;
let checkoutDir: string;

before(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'forge-local-sandbox-test-')));
  checkoutDir = join(root, 'checkout');
  await mkdir(checkoutDir);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function spec(overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return { checkoutDir, homeDir: join(root, 'home'), env: {}, labels: { task: 't1' }, ...overrides };
}

async function withSession<T>(fn: (s: SandboxSession) => Promise<T>, s = spec()): Promise<T> {
  const session = await sandbox.create(s);
  try {
    return await fn(session);
  } finally {
    await session.destroy();
  }
}

type Line = [OutputStream, string];
async function run(session: SandboxSession, script: string, options: Partial<ExecOptions> = {}) {
  const lines: Line[] = [];
  const result = await session.exec(['sh', '-c', script], {
    ...options,
    onLine: (stream, line) => lines.push([stream, line]),
  });
  return { ...result, lines, stdout: lines.filter(([s]) => s === 'stdout').map(([, l]) => l) };
}

/** Alive and not a zombie (an orphaned zombie answers kill -0 until init reaps it). */
function alive(pid: number): boolean {
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

async function eventuallyDead(pid: number): Promise<void> {
  const deadline = Date.now() + 1_500;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(pid), false, `process ${pid} should be dead`);
}

async function readPid(file: string): Promise<number> {
  const deadline = Date.now() + 1_000;
  while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const pid = Number((await readFile(file, 'utf8')).trim());
  assert.ok(pid > 0, `pid file ${file} should hold a pid`);
  return pid;
}

describe('LocalSandbox', () => {
  it('is kind local and reaps nothing', async () => {
    assert.equal(sandbox.kind, 'local');
    assert.equal(await sandbox.reapOrphans(), 0);
  });

  it('creates the home dir and a fresh scratch dir per session, runs in the checkout', async () => {
    const homeDir = join(root, 'fresh-home');
    await withSession(async (session) => {
      assert.equal(session.workdir, checkoutDir);
      assert.equal(session.homeDir, homeDir);
      assert.equal(session.scratchDir, session.hostScratchDir);
      assert.ok(existsSync(homeDir));
      assert.ok(existsSync(session.hostScratchDir));
      const other = await sandbox.create(spec({ homeDir }));
      assert.notEqual(other.hostScratchDir, session.hostScratchDir);
      await other.destroy();
      const { stdout, exitCode } = await run(session, 'pwd; echo "$HOME"');
      assert.equal(exitCode, 0);
      assert.deepEqual(stdout, [checkoutDir, homeDir]);
    }, spec({ homeDir }));
  });

  it('passes exactly spec.env + exec env + HOME + default PATH, nothing from Forge', async () => {
    process.env.FORGE_TEST_SECRET = 'xyz';
    process.env.GITHUB_TOKEN = 'ghs_secret';
    try {
      await withSession(
        async (session) => {
          const stdout: string[] = [];
          const { exitCode } = await session.exec(['env'], {
            env: { EXTRA: '2', SHARED: 'exec' },
            onLine: (_, line) => stdout.push(line),
          });
          assert.equal(exitCode, 0);
          const seen = Object.fromEntries(
            stdout.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
          );
          // The exec's tag, which finds the processes it started when it is stopped.
          assert.match(seen[EXEC_TAG_VAR] ?? '', /^[0-9a-f]{16}\.\d+$/);
          assert.deepEqual(seen, {
            SPEC: '1',
            SHARED: 'exec',
            EXTRA: '2',
            HOME: join(root, 'home'),
            PATH: DEFAULT_PATH,
            [EXEC_TAG_VAR]: seen[EXEC_TAG_VAR],
          });
          assert.ok(!stdout.join('\n').includes('xyz'));
          assert.ok(!stdout.join('\n').includes('ghs_secret'));
        },
        spec({ env: { SPEC: '1', SHARED: 'spec', HOME: '/wrong' } }),
      );
    } finally {
      delete process.env.FORGE_TEST_SECRET;
      delete process.env.GITHUB_TOKEN;
    }
  });

  it("keeps the spec's PATH when given", async () => {
    await withSession(
      async (session) => {
        const { stdout } = await run(session, 'echo "$PATH"');
        assert.deepEqual(stdout, ['/bin:/usr/bin']);
      },
      spec({ env: { PATH: '/bin:/usr/bin' } }),
    );
  });

  it('streams lines of both streams in order, handling \\r\\n and a partial last line', async () => {
    await withSession(async (session) => {
      const { lines, exitCode, end } = await run(
        session,
        "printf 'a\\r\\nb\\n'; sleep 0.05; echo err >&2; sleep 0.05; printf 'tail'",
      );
      assert.equal(exitCode, 0);
      assert.equal(end, 'exited');
      assert.deepEqual(lines, [
        ['stdout', 'a'],
        ['stdout', 'b'],
        ['stderr', 'err'],
        ['stdout', 'tail'],
      ]);
    });
  });

  it('caps a giant line', async () => {
    await withSession(async (session) => {
      const { stdout } = await run(session, "head -c 300000 /dev/zero | tr '\\0' x; echo; echo after");
      assert.equal(stdout.length, 2);
      assert.equal(stdout[0], 'x'.repeat(64 * 1024) + TRUNCATED_MARKER);
      assert.equal(stdout[1], 'after');
    });
  });

  it("takes an exec's own line cap: longer lines arrive whole, a smaller cap cuts earlier", async () => {
    await withSession(async (session) => {
      const script = "head -c 300000 /dev/zero | tr '\\0' y; echo; echo err-line >&2";
      const raised = await run(session, script, { maxLineBytes: 4 * 1024 * 1024 });
      assert.deepEqual(raised.stdout, ['y'.repeat(300_000)]);
      const small = await run(session, script, { maxLineBytes: 4 });
      assert.deepEqual(small.lines, [
        ['stdout', `yyyy${TRUNCATED_MARKER}`],
        ['stderr', `err-${TRUNCATED_MARKER}`],
      ]);
    });
  });

  it('reports exit codes and measures duration', async () => {
    await withSession(async (session) => {
      const r = await run(session, 'exit 3');
      assert.equal(r.exitCode, 3);
      assert.equal(r.end, 'exited');
      assert.ok(r.durationMs >= 0);
    });
  });

  it('writes stdin then closes it; without stdin the command reads EOF', async () => {
    await withSession(async (session) => {
      assert.deepEqual((await run(session, 'cat', { stdin: 'one\ntwo\n' })).stdout, ['one', 'two']);
      const r = await run(session, 'cat; echo eof');
      assert.deepEqual(r.stdout, ['eof']);
    });
  });

  it('reports a missing binary as exit 127 instead of throwing', async () => {
    await withSession(async (session) => {
      const lines: Line[] = [];
      const r = await session.exec(['/nonexistent/agent'], { onLine: (s, l) => lines.push([s, l]) });
      assert.equal(r.exitCode, 127);
      assert.equal(r.end, 'exited');
      assert.equal(lines[0]?.[0], 'stderr');
      assert.match(lines[0]?.[1] ?? '', /could not start \/nonexistent\/agent/);
    });
  });

  it('wall timeout kills the whole process group, grandchildren included', async () => {
    await withSession(async (session) => {
      const pidFile = join(session.hostScratchDir, 'pid');
      const started = Date.now();
      const r = await run(session, `sleep 100 & echo $! > '${pidFile}'; sleep 100`, { timeoutMs: 300 });
      assert.equal(r.end, 'timeout');
      assert.equal(r.exitCode, null);
      assert.ok(Date.now() - started < 2_000);
      await eventuallyDead(await readPid(pidFile));
    });
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    await withSession(async (session) => {
      const pidFile = join(session.hostScratchDir, 'pid');
      const r = await run(session, `trap '' TERM; sleep 100 & echo $! > '${pidFile}'; sleep 100`, {
        timeoutMs: 200,
      });
      assert.equal(r.end, 'timeout');
      await eventuallyDead(await readPid(pidFile));
    });
  });

  it('idle timeout fires after silence but not while output keeps coming', async () => {
    await withSession(async (session) => {
      const idle = await run(session, 'echo hi; sleep 100', { idleTimeoutMs: 300 });
      assert.equal(idle.end, 'idle_timeout');
      assert.deepEqual(idle.stdout, ['hi']);
      const busy = await run(session, 'for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done', {
        idleTimeoutMs: 300,
      });
      assert.equal(busy.end, 'exited');
      assert.equal(busy.exitCode, 0);
    });
  });

  it('abort signal kills the group; an already-aborted signal runs nothing', async () => {
    await withSession(async (session) => {
      const pidFile = join(session.hostScratchDir, 'pid');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const r = await run(session, `sleep 100 & echo $! > '${pidFile}'; sleep 100`, {
        signal: controller.signal,
      });
      assert.equal(r.end, 'aborted');
      await eventuallyDead(await readPid(pidFile));

      const marker = join(session.hostScratchDir, 'ran');
      const pre = await run(session, `touch '${marker}'`, { signal: AbortSignal.abort() });
      assert.equal(pre.end, 'aborted');
      assert.equal(pre.exitCode, null);
      assert.equal(existsSync(marker), false);
    });
  });

  it('abort also stops what the command moved to process groups of its own, before returning', async () => {
    await withSession(async (session) => {
      const dir = session.hostScratchDir;
      const controller = new AbortController();
      const running = run(
        session,
        [
          // A tool command in a session of its own, as Gemini CLI and OpenCode start them.
          `setsid sh -c 'echo $$ > "${dir}/detached"; exec sleep 60' &`,
          // One that ignores SIGTERM, so only SIGKILL ends it.
          `setsid sh -c 'trap "" TERM; echo $$ > "${dir}/stubborn"; while :; do sleep 1; done' &`,
          // A child with a scrubbed environment (no tag) whose detached parent still runs.
          `setsid sh -c 'env -i /bin/sh -c "echo \\$\\$ > ${dir}/scrubbed; exec sleep 60" & wait' &`,
          'sleep 100',
        ].join('\n'),
        { signal: controller.signal },
      );
      const pids = await Promise.all(['detached', 'stubborn', 'scrubbed'].map((f) => readPid(join(dir, f))));
      for (const pid of pids) assert.ok(alive(pid), `process ${pid} should run before the abort`);
      controller.abort();
      assert.equal((await running).end, 'aborted');
      for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} survived the abort`);
    });
  });

  it("stopping one exec leaves another exec's detached processes alone; destroy ends them", async () => {
    const session = await sandbox.create(spec());
    const file = join(session.hostScratchDir, 'other');
    const other = await run(
      session,
      `setsid sh -c 'echo $$ > "${file}"; exec sleep 60' > /dev/null 2>&1 & echo started`,
    );
    assert.deepEqual(other.stdout, ['started']);
    const pid = await readPid(file);
    const timedOut = await run(session, 'sleep 100', { timeoutMs: 100 });
    assert.equal(timedOut.end, 'timeout');
    assert.ok(alive(pid), 'the first exec finished normally: its detached process is left to destroy');
    await session.destroy();
    assert.equal(alive(pid), false);
  });

  it('does not hang on a background job holding stdout; destroy kills it', async () => {
    const session = await sandbox.create(spec());
    const pidFile = join(session.hostScratchDir, 'pid');
    const r = await run(session, `sleep 100 & echo $! > '${pidFile}'; echo done`);
    assert.equal(r.exitCode, 0);
    assert.equal(r.end, 'exited');
    assert.deepEqual(r.stdout, ['done']);
    const pid = await readPid(pidFile);
    assert.ok(alive(pid));
    await session.destroy();
    await eventuallyDead(pid);
  });

  it('destroy stops running commands, removes scratch, is idempotent and blocks further exec', async () => {
    const session = await sandbox.create(spec());
    const running = run(session, 'sleep 100');
    await new Promise((r) => setTimeout(r, 100));
    await Promise.all([session.destroy(), session.destroy()]);
    assert.equal((await running).end, 'aborted');
    assert.equal(existsSync(session.hostScratchDir), false);
    await session.destroy();
    await assert.rejects(run(session, 'true'), /destroyed/);
  });

  it('a throwing onLine listener stops the command and rejects', async () => {
    await withSession(async (session) => {
      await assert.rejects(
        session.exec(['sh', '-c', 'echo boom; sleep 100'], {
          onLine: () => {
            throw new Error('listener bug');
          },
        }),
        /listener bug/,
      );
    });
  });
});

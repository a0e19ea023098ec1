/** Stopping commands: timeouts, abort and destroy end everything a command started. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { alive, eventuallyDead, localSandboxFixture, readPid, run } from '../../../test/kit/local-sandbox.js';

const { sandbox, spec, withSession } = localSandboxFixture();

describe('LocalSandbox stopping commands', () => {
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
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Line, localSandboxFixture, run } from '../../../test/kit/local-sandbox.js';
import { TRUNCATED_MARKER } from '../lines.js';
import { DEFAULT_PATH } from './local-sandbox.js';
import { EXEC_TAG_VAR } from './process-tag.js';

const { sandbox, dirs, spec, withSession } = localSandboxFixture();

describe('LocalSandbox', () => {
  it('is kind local and reaps nothing', async () => {
    assert.equal(sandbox.kind, 'local');
    assert.equal(await sandbox.reapOrphans(), 0);
  });

  it('creates the home dir and a fresh scratch dir per session, runs in the checkout', async () => {
    const homeDir = join(dirs.root, 'fresh-home');
    await withSession(async (session) => {
      assert.equal(session.workdir, dirs.checkoutDir);
      assert.equal(session.homeDir, homeDir);
      assert.equal(session.scratchDir, session.hostScratchDir);
      assert.ok(existsSync(homeDir));
      assert.ok(existsSync(session.hostScratchDir));
      const other = await sandbox.create(spec({ homeDir }));
      assert.notEqual(other.hostScratchDir, session.hostScratchDir);
      await other.destroy();
      const { stdout, exitCode } = await run(session, 'pwd; echo "$HOME"');
      assert.equal(exitCode, 0);
      assert.deepEqual(stdout, [dirs.checkoutDir, homeDir]);
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
            HOME: join(dirs.root, 'home'),
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

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecOptions, SandboxSession } from '../sandbox/types.js';
import {
  OPENCODE_SESSIONS_FILE,
  prepareOpenCodeResume,
  rememberOpenCodeSession,
} from './opencode-session.js';
import type { AgentRunContext } from './types.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'forge-opencode-session-'));
});
after(() => rm(root, { recursive: true, force: true }));

/**
 * A session whose `opencode export` prints `exported` (or fails when undefined) and whose
 * `opencode import` succeeds, recording argv and what was imported.
 */
async function fakeSession(name: string, workdir: string, exported: unknown) {
  const hostScratchDir = join(root, name, 'scratch');
  const hostHomeDir = join(root, name, 'home');
  await mkdir(hostScratchDir, { recursive: true });
  const calls: string[][] = [];
  const imported: unknown[] = [];
  const session: SandboxSession = {
    workdir,
    homeDir: '/home/agent',
    hostHomeDir,
    scratchDir: '/scratch',
    hostScratchDir,
    async exec(argv: string[], _options: ExecOptions) {
      calls.push(argv);
      const toHost = (path: string) => join(hostScratchDir, path.replace(/^\/scratch\//, ''));
      if (argv[0] === 'sh') {
        if (exported === undefined) return { exitCode: 1, end: 'exited', durationMs: 1 };
        await writeFile(toHost(argv.at(-1)!), JSON.stringify(exported));
      } else if (argv[1] === 'import') {
        imported.push(JSON.parse(await readFile(toHost(argv[2]!), 'utf8')));
      }
      return { exitCode: 0, end: 'exited', durationMs: 1 };
    },
    destroy: () => Promise.resolve(),
  };
  const ctx = {
    session,
    signal: new AbortController().signal,
    timeoutMs: 60_000,
    onLine() {},
    onEvent() {},
  } satisfies AgentRunContext;
  return { ctx, calls, imported, session };
}

const options = { executable: 'opencode', sessionId: 'ses_abc', env: {} };

describe('prepareOpenCodeResume', () => {
  it('resumes directly when the session is known to live in this checkout', async () => {
    const { ctx, calls, session } = await fakeSession('known', '/workspace', undefined);
    await rememberOpenCodeSession(session, 'ses_abc');
    assert.deepEqual(JSON.parse(await readFile(join(session.hostHomeDir, OPENCODE_SESSIONS_FILE), 'utf8')), {
      ses_abc: '/workspace',
    });
    assert.deepEqual(await prepareOpenCodeResume(ctx, options), { kind: 'resume', moved: false });
    assert.deepEqual(calls, []);
  });

  it('moves a session from another directory: export, directory rewritten, import', async () => {
    const data = {
      info: { id: 'ses_abc', directory: '/old/checkout', title: 't' },
      messages: [{ info: { role: 'user' } }],
    };
    const { ctx, calls, imported } = await fakeSession('moved', '/new/checkout', data);
    assert.deepEqual(await prepareOpenCodeResume(ctx, options), { kind: 'resume', moved: true });
    assert.deepEqual(calls, [
      ['sh', '-c', 'exec "$0" export "$1" > "$2"', 'opencode', 'ses_abc', '/scratch/opencode-session.json'],
      ['opencode', 'import', '/scratch/opencode-session.json'],
    ]);
    assert.deepEqual(imported, [{ ...data, info: { ...data.info, directory: '/new/checkout' } }]);
  });

  it('skips the import when the exported session already points here', async () => {
    const { ctx, calls } = await fakeSession('same', '/workspace', {
      info: { id: 'ses_abc', directory: '/workspace' },
    });
    assert.deepEqual(await prepareOpenCodeResume(ctx, options), { kind: 'resume', moved: false });
    assert.equal(calls.length, 1);
  });

  it('starts fresh, saying so, when the session cannot be exported', async () => {
    for (const exported of [undefined, { info: { id: 'ses_other' } }, 'not an object']) {
      const { ctx } = await fakeSession(`gone-${String(exported).length}`, '/workspace', exported);
      const result = await prepareOpenCodeResume(ctx, options);
      assert.equal(result.kind, 'fresh');
      assert.equal(result.kind === 'fresh' ? result.why : '', "is no longer in the task's home");
    }
  });
});

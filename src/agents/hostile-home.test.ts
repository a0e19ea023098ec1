/**
 * The per-task home belongs to the agent: an earlier turn (or a process it left running) can plant
 * a link, a FIFO or a directory wherever the host reads or writes. Each case plants it the way a
 * hostile agent would and checks the host file it points to is neither read, written nor chowned,
 * and that the turn carries on (or, for the CLI's configuration, stops before the CLI starts) with
 * the reason in its log.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { streamFixture } from '../../test/kit/agent-streams.js';
import type { ExecOptions, ExecResult, SandboxSession } from '../sandbox/types.js';
import { CODEX_USAGE_FILE, CodexAgent } from './codex.js';
import { GeminiAgent } from './gemini.js';
import { GEMINI_SETTINGS_FILE, writeGeminiSettings } from './gemini-config.js';
import { OpenCodeAgent } from './opencode.js';
import { OPENCODE_SESSIONS_FILE, rememberOpenCodeSession } from './opencode-session.js';
import type { AgentRunContext, ModelAccess } from './types.js';

const isRoot = process.getuid?.() === 0;
const SECRET = '{"root:$6$hash": {"inputTokens": 1}}\n';

const access: ModelAccess = {
  anthropicBaseUrl: 'http://gateway.internal/anthropic',
  openaiBaseUrl: 'http://gateway.internal/openai/v1',
  geminiBaseUrl: 'http://gateway.internal/gemini',
  token: 'turn-token-123',
};

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'forge-hostile-home-'));
});
after(() => rm(base, { recursive: true, force: true }));

let serial = 0;
/**
 * A home (owned by uid 1000 when the test runs as root, like a container user's) next to a host
 * directory with a root-only file; `stdout` is what the CLI "prints" on each exec.
 */
async function hostileHome(stdout: string[] = []) {
  const dir = join(base, `case-${++serial}`);
  const home = join(dir, 'home');
  const hostDir = join(dir, 'host');
  await mkdir(home, { recursive: true });
  await mkdir(join(dir, 'scratch'));
  await mkdir(hostDir);
  const secret = join(hostDir, 'shadow');
  await writeFile(secret, SECRET, { mode: 0o600 });
  if (isRoot) await chown(home, 1000, 1000);
  const before = await stat(secret);
  const execs: string[][] = [];
  const lines: string[] = [];
  const session: SandboxSession = {
    workdir: '/workspace',
    homeDir: '/home/agent',
    hostHomeDir: home,
    scratchDir: '/scratch',
    hostScratchDir: join(dir, 'scratch'),
    async exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
      execs.push(argv);
      for (const line of stdout) options.onLine('stdout', line);
      return { exitCode: 0, end: 'exited', durationMs: 1 };
    },
    destroy: () => Promise.resolve(),
  };
  const ctx: AgentRunContext = {
    session,
    model: access,
    signal: new AbortController().signal,
    timeoutMs: 60_000,
    onLine: (_stream, line) => lines.push(line),
    onEvent: () => undefined,
  };
  /** The host file is as it was: content, owner, mode, and nothing new next to it. */
  const untouched = async () => {
    assert.equal(await readFile(secret, 'utf8'), SECRET);
    const now = await stat(secret);
    assert.deepEqual(
      [now.uid, now.gid, now.mode, now.mtimeMs],
      [before.uid, before.gid, before.mode, before.mtimeMs],
    );
    assert.deepEqual(await readdir(hostDir), ['shadow']);
  };
  return { home, hostDir, secret, session, ctx, execs, lines, untouched };
}

describe('Codex usage totals in a hostile home', () => {
  it('a link at ~/.forge/codex-usage.json to a host file: never read, written or chowned', async () => {
    const h = await hostileHome(streamFixture('codex-edit'));
    await mkdir(join(h.home, '.forge'));
    await symlink(h.secret, join(h.home, CODEX_USAGE_FILE));
    const result = await new CodexAgent({ executable: 'codex' }).run({ taskId: 't', prompt: 'x' }, h.ctx);
    assert.equal(result.conclusion, 'success', result.error);
    await h.untouched();
    assert.ok(
      h.lines.includes(
        "forge: did not read the Codex usage totals: /home/agent/.forge/codex-usage.json is a symbolic link (Forge never follows links in the agent's directories).",
      ),
      h.lines.join('\n'),
    );
    // The link itself was replaced by Forge's own record, owned like the home.
    const file = join(h.home, CODEX_USAGE_FILE);
    const st = await lstat(file);
    assert.ok(st.isFile());
    if (isRoot) assert.equal(st.uid, 1000);
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8'))), [
      '01a24300-634f-7bb1-ab2c-d842582444a0',
    ]);
  });

  it('a linked ~/.forge directory: nothing is written through it, the turn still succeeds', async () => {
    const h = await hostileHome(streamFixture('codex-edit'));
    await symlink(h.hostDir, join(h.home, '.forge'));
    const result = await new CodexAgent({ executable: 'codex' }).run({ taskId: 't', prompt: 'x' }, h.ctx);
    assert.equal(result.conclusion, 'success', result.error);
    assert.ok(result.usage, 'the run is still reported');
    await h.untouched();
    const notes = h.lines.filter((l) => l.startsWith('forge: '));
    assert.deepEqual(notes, [
      "forge: did not read the Codex usage totals: /home/agent/.forge is a symbolic link (Forge never follows links in the agent's directories).",
      "forge: did not save the Codex usage totals: /home/agent/.forge is a symbolic link (Forge never follows links in the agent's directories).",
    ]);
  });

  it('a FIFO at ~/.forge/codex-usage.json does not block the turn', async () => {
    const h = await hostileHome(streamFixture('codex-edit'));
    await mkdir(join(h.home, '.forge'));
    execFileSync('mkfifo', [join(h.home, CODEX_USAGE_FILE)]);
    const result = await new CodexAgent({ executable: 'codex' }).run({ taskId: 't', prompt: 'x' }, h.ctx);
    assert.equal(result.conclusion, 'success', result.error);
    assert.ok(
      h.lines.includes(
        'forge: did not read the Codex usage totals: /home/agent/.forge/codex-usage.json is not a regular file.',
      ),
    );
    assert.ok((await lstat(join(h.home, CODEX_USAGE_FILE))).isFile(), 'replaced by the new totals');
  });

  it('a linked ~/.codex: the configuration is not written through it and Codex does not start', async () => {
    const h = await hostileHome();
    await symlink(h.hostDir, join(h.home, '.codex'));
    const result = await new CodexAgent({ executable: 'codex' }).run({ taskId: 't', prompt: 'x' }, h.ctx);
    assert.deepEqual(result, {
      conclusion: 'failure',
      error:
        "Forge could not write Codex's configuration into the task's home, so the agent did not run: /home/agent/.codex is a symbolic link (Forge never follows links in the agent's directories). A new task starts with a fresh home.",
    });
    assert.deepEqual(h.execs, []);
    await h.untouched();
  });
});

describe('Gemini CLI settings in a hostile home', () => {
  it('a link at ~/.gemini/settings.json: the host file is not read or changed, Forge’s settings replace the link', async () => {
    const h = await hostileHome();
    await mkdir(join(h.home, '.gemini'));
    await symlink(h.secret, join(h.home, GEMINI_SETTINGS_FILE));
    await writeGeminiSettings(h.session, h.ctx);
    await h.untouched();
    const file = join(h.home, GEMINI_SETTINGS_FILE);
    assert.ok((await lstat(file)).isFile());
    const written = await readFile(file, 'utf8');
    assert.ok(!written.includes('root:'), 'nothing of the host file was merged in');
    assert.equal(JSON.parse(written).advanced.ignoreLocalEnv, true);
    if (isRoot) assert.equal((await lstat(file)).uid, 1000);
    assert.deepEqual(h.lines, [
      "forge: did not read the existing Gemini CLI settings: /home/agent/.gemini/settings.json is a symbolic link (Forge never follows links in the agent's directories).",
    ]);
  });

  it('a linked ~/.gemini: Gemini CLI does not start, and the turn says why', async () => {
    const h = await hostileHome();
    await symlink(h.hostDir, join(h.home, '.gemini'));
    const result = await new GeminiAgent({ executable: 'gemini' }).run({ taskId: 't', prompt: 'x' }, h.ctx);
    assert.equal(result.conclusion, 'failure');
    assert.match(
      result.error ?? '',
      /^Forge could not write Gemini CLI's configuration .*\/home\/agent\/\.gemini is a symbolic link/,
    );
    assert.deepEqual(h.execs, []);
    await h.untouched();
  });
});

describe('OpenCode files in a hostile home', () => {
  it('a linked ~/.config: OpenCode does not start, nothing lands in the host directory', async () => {
    const h = await hostileHome();
    await symlink(h.hostDir, join(h.home, '.config'));
    const result = await new OpenCodeAgent({ executable: 'opencode' }).run(
      { taskId: 't', prompt: 'x' },
      h.ctx,
    );
    assert.equal(result.conclusion, 'failure');
    assert.match(result.error ?? '', /\/home\/agent\/\.config is a symbolic link/);
    assert.deepEqual(h.execs, []);
    await h.untouched();
  });

  it('the session record linked to a host file: not read, not written, noted', async () => {
    const h = await hostileHome();
    await mkdir(join(h.home, '.forge'));
    await symlink(h.secret, join(h.home, OPENCODE_SESSIONS_FILE));
    await rememberOpenCodeSession(h.session, 'ses_1', h.ctx);
    await h.untouched();
    assert.equal(
      h.lines[0],
      `forge: did not read where OpenCode sessions live: /home/agent/${OPENCODE_SESSIONS_FILE} is a symbolic link (Forge never follows links in the agent's directories).`,
    );
    assert.deepEqual(JSON.parse(await readFile(join(h.home, OPENCODE_SESSIONS_FILE), 'utf8')), {
      ses_1: '/workspace',
    });
  });
});

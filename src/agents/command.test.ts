import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalSandbox } from '../sandbox/local/local-sandbox.js';
import type { SandboxSession } from '../sandbox/types.js';
import { CommandAgent, formatDuration, PROMPT_ENV_MAX_BYTES, summarizeLastLines } from './command.js';
import type { AgentEvent, AgentRunContext, AgentRunInput } from './types.js';

const sandbox = new LocalSandbox({ killGraceMs: 200, drainGraceMs: 200 });
let root: string;
let checkoutDir: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'forge-command-agent-test-'));
  checkoutDir = join(root, 'checkout');
  await mkdir(checkoutDir);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

type Line = ['stdout' | 'stderr', string];

async function runAgent(
  command: string,
  input: Partial<AgentRunInput> = {},
  context: Partial<Omit<AgentRunContext, 'session' | 'onLine' | 'onEvent'>> = {},
) {
  const session: SandboxSession = await sandbox.create({
    checkoutDir,
    homeDir: join(root, 'home'),
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    labels: {},
  });
  const lines: Line[] = [];
  const events: AgentEvent[] = [];
  try {
    const result = await new CommandAgent({ command }).run(
      { taskId: 'task-42', prompt: 'Fix the bug.', ...input },
      {
        session,
        signal: new AbortController().signal,
        timeoutMs: 10_000,
        ...context,
        onLine: (stream, line) => lines.push([stream, line]),
        onEvent: (event) => events.push(event),
      },
    );
    const stdout = lines.filter(([s]) => s === 'stdout').map(([, l]) => l);
    return { result, lines, stdout, events, scratchDir: session.scratchDir };
  } finally {
    await session.destroy();
  }
}

describe('CommandAgent', () => {
  it('rejects an empty command', () => {
    assert.throws(() => new CommandAgent({ command: '  ' }), TypeError);
    assert.equal(new CommandAgent({ command: 'true' }).name, 'command');
  });

  it("gives the command only the sandbox env and Forge's variables, never Forge's secrets", async () => {
    process.env.FORGE_TEST_SECRET = 'xyz';
    process.env.GITHUB_TOKEN = 'ghs_secret';
    try {
      const { stdout, result, scratchDir } = await runAgent('env', { model: 'fast-1' });
      assert.equal(result.conclusion, 'success');
      const env = Object.fromEntries(
        stdout.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      assert.equal(env.FORGE_TEST_SECRET, undefined);
      assert.equal(env.GITHUB_TOKEN, undefined);
      assert.ok(!stdout.join('\n').includes('xyz'));
      assert.equal(env.FORGE_TASK_ID, 'task-42');
      assert.equal(env.FORGE_MODEL, 'fast-1');
      assert.equal(env.FORGE_PROMPT, 'Fix the bug.');
      assert.equal(env.FORGE_PROMPT_FILE, join(scratchDir, 'prompt.md'));
      assert.equal(env.FORGE_SUMMARY_FILE, join(scratchDir, 'summary.md'));
      assert.equal(env.HOME, join(root, 'home'));
    } finally {
      delete process.env.FORGE_TEST_SECRET;
      delete process.env.GITHUB_TOKEN;
    }
  });

  it('passes a 300 KB prompt by file only', async () => {
    const prompt = `${'Ünïcode prompt line 🙂\n'.repeat(12_000)}the end`;
    assert.ok(Buffer.byteLength(prompt) > 300_000);
    const { stdout, result } = await runAgent(
      'echo "env:$(env | grep -c ^FORGE_PROMPT=)"; sha256sum "$FORGE_PROMPT_FILE" | cut -d" " -f1',
      { prompt },
    );
    assert.equal(result.conclusion, 'success');
    assert.deepEqual(stdout, ['env:0', createHash('sha256').update(prompt).digest('hex')]);
  });

  it('passes a 10 KB prompt by file and in FORGE_PROMPT', async () => {
    const prompt = 'p'.repeat(10 * 1024);
    const { stdout } = await runAgent('printf %s "$FORGE_PROMPT" | cmp - "$FORGE_PROMPT_FILE" && echo same', {
      prompt,
    });
    assert.deepEqual(stdout, ['same']);
    const justOver = 'q'.repeat(PROMPT_ENV_MAX_BYTES);
    const over = await runAgent('echo "env:$(env | grep -c ^FORGE_PROMPT=)"', { prompt: justOver });
    assert.deepEqual(over.stdout, ['env:0']);
  });

  it('forwards every line in order and summarizes the last non-empty stdout lines', async () => {
    const { lines, result, events } = await runAgent(
      'for i in $(seq 1 25); do echo "line $i"; done; echo; echo oops >&2; echo "   "',
    );
    assert.equal(lines.length, 28);
    assert.deepEqual(lines[0], ['stdout', 'line 1']);
    // Order across stdout and stderr is not defined (two pipes); within a stream it is.
    assert.deepEqual(
      lines.filter(([s]) => s === 'stdout').map(([, l]) => l),
      [...Array.from({ length: 25 }, (_, i) => `line ${i + 1}`), '', '   '],
    );
    assert.ok(lines.some(([s, l]) => s === 'stderr' && l === 'oops'));
    const expected = Array.from({ length: 20 }, (_, i) => `line ${i + 6}`).join('\n');
    assert.equal(result.summary, expected);
    assert.deepEqual(events, [{ type: 'summary', text: expected }]);
  });

  it('prefers the summary file over stdout', async () => {
    const { result } = await runAgent(
      'echo noise; printf "## Done\\n\\nFixed it.\\n" > "$FORGE_SUMMARY_FILE"',
    );
    assert.equal(result.conclusion, 'success');
    assert.equal(result.summary, '## Done\n\nFixed it.');
  });

  describe('a hostile summary file', () => {
    const SECRET = 'host-secret-7f3a9c';
    let hostFile: string;
    before(async () => {
      hostFile = join(root, 'host-only.txt');
      await writeFile(hostFile, `${SECRET}\n`, { mode: 0o600 });
    });

    const cases: Array<[string, () => string, string]> = [
      [
        'a link to a host file',
        () => `ln -s '${join(root, 'host-only.txt')}' "$FORGE_SUMMARY_FILE"`,
        'is a symbolic link',
      ],
      // Read on the host, this would be the worker's own environment, tokens included.
      [
        'a link to /proc/self/environ',
        () => 'ln -s /proc/self/environ "$FORGE_SUMMARY_FILE"',
        'is a symbolic link',
      ],
      [
        'a FIFO (which would block a plain read forever)',
        () => 'mkfifo "$FORGE_SUMMARY_FILE"',
        'is not a regular file',
      ],
      ['a directory', () => 'mkdir "$FORGE_SUMMARY_FILE"', 'is not a regular file'],
    ];
    for (const [name, plant, why] of cases) {
      it(`is not read when it is ${name}: the stdout summary is used and the log says why`, async () => {
        const { result, lines, scratchDir } = await runAgent(`${plant()} && echo the last line`);
        assert.equal(result.conclusion, 'success', result.error);
        assert.equal(result.summary, 'the last line');
        assert.ok(!JSON.stringify({ result, lines }).includes(SECRET), 'nothing of the host file was read');
        assert.deepEqual(lines.at(-1), [
          'stderr',
          `forge: ignored the summary file: ${join(scratchDir, 'summary.md')} ${why}${why === 'is a symbolic link' ? " (Forge never follows links in the agent's directories)" : ''}.`,
        ]);
        assert.equal(await readFile(hostFile, 'utf8'), `${SECRET}\n`);
      });
    }

    it('a link a setup command left at the prompt file is replaced, never written through', async () => {
      const before = await stat(hostFile);
      const session = await sandbox.create({ checkoutDir, homeDir: join(root, 'home'), env: {}, labels: {} });
      try {
        await symlink(hostFile, join(session.hostScratchDir, 'prompt.md'));
        const result = await new CommandAgent({ command: 'cat "$FORGE_PROMPT_FILE"' }).run(
          { taskId: 't', prompt: 'the real prompt' },
          {
            session,
            signal: new AbortController().signal,
            timeoutMs: 10_000,
            onLine: () => undefined,
            onEvent: () => undefined,
          },
        );
        assert.equal(result.summary, 'the real prompt');
        assert.ok((await lstat(join(session.hostScratchDir, 'prompt.md'))).isFile());
      } finally {
        await session.destroy();
      }
      assert.equal(await readFile(hostFile, 'utf8'), `${SECRET}\n`);
      assert.equal((await stat(hostFile)).mtimeMs, before.mtimeMs);
    });
  });

  it('reports a non-zero exit as failure with the last stderr lines', async () => {
    const { result } = await runAgent('for i in 1 2 3 4 5 6 7; do echo "err $i" >&2; done; exit 3');
    assert.equal(result.conclusion, 'failure');
    assert.equal(result.exitCode, 3);
    assert.match(result.error ?? '', /^The agent command exited with code 3\./);
    assert.ok(result.error?.includes('err 3\nerr 4\nerr 5\nerr 6\nerr 7'));
    assert.ok(!result.error?.includes('err 2'));
  });

  it('maps a wall-clock timeout to timed_out', async () => {
    const { result } = await runAgent('sleep 100 & sleep 100', {}, { timeoutMs: 300 });
    assert.equal(result.conclusion, 'timed_out');
    assert.equal(result.error, 'The agent ran longer than 0.3 seconds and was stopped.');
  });

  it('maps an idle timeout to timed_out', async () => {
    const { result } = await runAgent('echo working; sleep 100', {}, { idleTimeoutMs: 300 });
    assert.equal(result.conclusion, 'timed_out');
    assert.match(result.error ?? '', /no output for 0\.3 seconds/);
    assert.equal(result.summary, 'working');
  });

  it('maps an abort to cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { result } = await runAgent('sleep 100', {}, { signal: controller.signal });
    assert.equal(result.conclusion, 'cancelled');
  });
});

describe('formatDuration', () => {
  it('speaks minutes, or seconds below one', () => {
    assert.equal(formatDuration(30 * 60_000), '30 minutes');
    assert.equal(formatDuration(60_000), '1 minute');
    assert.equal(formatDuration(90_000), '1.5 minutes');
    assert.equal(formatDuration(45_000), '45 seconds');
  });
});

describe('summarizeLastLines', () => {
  it('strips colours, skips blank lines and stays under 4 KB', () => {
    assert.equal(summarizeLastLines(['\u001b[32mok\u001b[0m', '', 'done  ']), 'ok\ndone');
    const long = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(1000, '.'));
    const summary = summarizeLastLines(long);
    assert.ok(Buffer.byteLength(summary) <= 4096);
    assert.ok(summary.endsWith(long.at(-1) ?? 'x'));
    assert.equal(summary.split('\n').length, 4);
    assert.match(summarizeLastLines(['x'.repeat(10_000)]), /^…x+$/);
  });
});

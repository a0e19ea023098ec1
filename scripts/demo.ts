/**
 * `npm run demo`: Forge's whole loop, offline, in about half a minute.
 *
 * Starts a private Redis, a real git smart-HTTP server holding a tiny sample repository, the strict
 * fake GitHub from the tests and Forge itself (web server and worker), with a scripted stand-in
 * for the coding agent (scripts/demo-agent.mjs). Then alice asks Forge on an issue to fix a bug,
 * Forge opens a PR, alice asks for a follow-up on the PR, and the demo prints what GitHub would
 * show. Nothing leaves the machine and no credentials are needed.
 *
 *   npm run demo               the demo
 *   npm run demo -- --verbose  also stream Forge's own (JSON) log lines
 *
 * Exits 0 when everything worked, 1 (saying what went wrong) otherwise.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Task, Turn } from '../src/tasks/types.js';
import { type Harness, REPO, startHarness } from '../test/e2e/harness.js';
import { commandExists, ensureCommand } from '../test/kit/require.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT_SCRIPT = fileURLToPath(new URL('./demo-agent.mjs', import.meta.url));
const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
const TURN_TIMEOUT_MS = 90_000;
const ISSUE = 1;
const USER = 'alice';

// ---- output --------------------------------------------------------------------------------

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
const sgr = (open: number, close: number) => (text: string) =>
  useColor ? `\x1b[${open}m${text}\x1b[${close}m` : text;
const c = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  blue: sgr(34, 39),
  magenta: sgr(35, 39),
  cyan: sgr(36, 39),
};
const out = (line = '') => process.stdout.write(`${line}\n`);
const step = (text: string) => out(`${c.cyan('▸')} ${text}`);
const heading = (text: string) => {
  out();
  out(c.bold(c.blue(`━━ ${text} ${'━'.repeat(Math.max(3, 72 - text.length))}`)));
};
const quote = (text: string, indent = '  ') => {
  for (const line of text.split('\n')) out(`${indent}${c.dim('│')} ${line}`);
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const short = (sha: string | undefined) => (sha ?? '').slice(0, 7);

/** GitHub renders markdown and hides HTML comments; show the text a reader would see. */
function asRendered(markdown: string): string {
  return markdown
    .replace(/<!--[\s\S]*?-->\n?/g, '')
    .replace(/<details><summary>(.*?)<\/summary>/g, '▸ $1')
    .replace(/<\/details>\n?/g, '')
    .replace(/<\/?sub>/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const REACTION: Record<string, string> = {
  eyes: '👀',
  '+1': '👍',
  '-1': '👎',
  rocket: '🚀',
  heart: '❤️',
  hooray: '🎉',
  laugh: '😄',
  confused: '😕',
};

function colorDiff(patch: string): string {
  return patch
    .trimEnd()
    .split('\n')
    .map((line) => {
      if (/^(diff --git|index |--- |\+\+\+ |new file mode)/.test(line)) return c.bold(line);
      if (line.startsWith('@@')) return c.cyan(line);
      if (line.startsWith('+')) return c.green(line);
      if (line.startsWith('-')) return c.red(line);
      return line;
    })
    .join('\n');
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** One pino JSON line as `12:00:01.234 info  msg key=value …`. */
function formatLog(line: string): string {
  try {
    const { level, time, msg, app: _app, err, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const at = new Date(Number(time)).toISOString().slice(11, 23);
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const error = err ? ` ${(err as { message?: string }).message ?? JSON.stringify(err)}` : '';
    return `${at} ${(LEVELS[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${error} ${c.dim(fields)}`;
  } catch {
    return line.trimEnd();
  }
}

// ---- prerequisites -------------------------------------------------------------------------

const NEEDED: { cmd: string; apt: string; brew: string }[] = [
  { cmd: 'git', apt: 'git', brew: 'git' },
  { cmd: 'redis-server', apt: 'redis-server', brew: 'redis' },
];

/** Installs what is missing (root on Debian/Ubuntu) or says exactly what to install. */
async function prerequisites(): Promise<boolean> {
  const missing: typeof NEEDED = [];
  for (const need of NEEDED) if (!(await commandExists(need.cmd))) missing.push(need);
  if (missing.length === 0) return true;
  const canInstall = process.getuid?.() === 0 && (await commandExists('apt-get'));
  if (canInstall) {
    for (const need of missing) {
      step(`Installing ${c.bold(need.apt)} with apt-get (needed for the demo) …`);
      await ensureCommand(need.cmd, need.apt);
    }
    return true;
  }
  const names = missing.map((m) => `\`${m.cmd}\``).join(' and ');
  const plural = missing.length > 1;
  out(c.red(`The demo needs ${names}, which ${plural ? 'are' : 'is'} not on PATH.`));
  out(`Install ${plural ? 'them' : 'it'}, then run \`npm run demo\` again:`);
  out(`  Debian/Ubuntu:  sudo apt-get install -y ${missing.map((m) => m.apt).join(' ')}`);
  out(`  macOS:          brew install ${missing.map((m) => m.brew).join(' ')}`);
  out('(Run as root on Debian/Ubuntu, the demo installs them itself.)');
  return false;
}

// ---- the sample repository -----------------------------------------------------------------

const SAMPLE: Record<string, string> = {
  'README.md': [
    '# widgets',
    '',
    'Tiny arithmetic helpers for the Acme widget shop.',
    '',
    '```sh',
    'npm test',
    '```',
    '',
  ].join('\n'),
  'package.json': `${JSON.stringify(
    {
      name: 'widgets',
      version: '1.0.0',
      type: 'module',
      main: 'src/math.js',
      scripts: { test: 'node --test' },
    },
    null,
    2,
  )}\n`,
  'src/math.js': [
    '/** Returns the sum of `a` and `b`. */',
    'export function add(a, b) {',
    '  // Fast path for small numbers.',
    '  if (a < 0 || b < 0) return Math.abs(a) + Math.abs(b);',
    '  return a + b;',
    '}',
    '',
    '/** Returns the product of `a` and `b`. */',
    'export function multiply(a, b) {',
    '  return a * b;',
    '}',
    '',
  ].join('\n'),
};

const ISSUE_TITLE = '`add()` returns the wrong result for negative numbers';
const ISSUE_BODY = '`add(-2, 3)` returns `5`, but it should return `1`.';
const FIRST = '/forge fix add() for negative numbers and add a test';
const SECOND = '/forge also document add() in the README';

// ---- the demo ------------------------------------------------------------------------------

function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

async function settledTurn(h: Harness, number: number, turns: number, what: string): Promise<Task> {
  let task: Task;
  try {
    task = await h.settled(number, turns, TURN_TIMEOUT_MS);
  } catch (error) {
    throw new Error(
      `Forge did not finish ${what} within ${TURN_TIMEOUT_MS / 1000} s (${(error as Error).message}).`,
    );
  }
  const turn = task.turns[turns - 1]!;
  if (turn.state !== 'completed') {
    throw new Error(`${what} ended ${turn.state}: ${turn.error ?? 'no reason given'}`);
  }
  return task;
}

function printConversation(h: Harness, number: number, after = 0): void {
  for (const comment of h.github.comments(REPO, number).filter((x) => x.id > after)) {
    const bot = comment.user.endsWith('[bot]');
    const reactions = h.github
      .reactions(REPO, comment.id)
      .map((r) => `${REACTION[r.content] ?? r.content} ${r.user}`)
      .join(', ');
    const edited = comment.updatedAt !== comment.createdAt ? c.dim(' (edited)') : '';
    out();
    out(
      `  ${c.bold(bot ? c.magenta(comment.user) : comment.user)} commented${edited}${reactions ? `   ${reactions}` : ''}`,
    );
    quote(asRendered(comment.body));
  }
}

async function printCommit(h: Harness, ref: string): Promise<void> {
  const [commit] = await h.git.log(`${REPO}.git`, ref, 1);
  if (!commit) throw new Error(`no commit at ${ref}`);
  out(`  ${c.yellow(`commit ${commit.sha}`)}`);
  out(`  Author: ${commit.author.name} <${commit.author.email}>`);
  out();
  for (const line of commit.message.trimEnd().split('\n')) out(`      ${line}`);
}

async function printDiff(h: Harness, base: string, head: string): Promise<void> {
  const { files, patch } = await h.git.diff(`${REPO}.git`, base, head);
  out();
  out(
    `  ${c.dim(`git diff ${base.length === 40 ? short(base) : base}..${short(head)}`)} (${files.join(', ')})`,
  );
  out();
  for (const line of colorDiff(patch).split('\n')) out(`  ${line}`);
}

function printCheck(h: Harness, turn: Turn): void {
  const runs = h.github.checkRuns(REPO).filter((r) => r.headSha === turn.commitSha);
  if (runs.length === 0) throw new Error(`no check run on ${short(turn.commitSha)}`);
  for (const run of runs) {
    const conclusion = run.conclusion === 'success' ? c.green(run.conclusion) : c.red(String(run.conclusion));
    out(`  ${c.bold(run.name)} on ${short(run.headSha)}: ${run.status}, conclusion ${conclusion}`);
    out(`  title: ${run.output.title ?? ''}`);
  }
}

/** With --verbose: the task's event log for one turn (state changes and the agent's output). */
async function printTaskLog(h: Harness, task: Task, turn: number): Promise<void> {
  if (!verbose) return;
  out(c.dim(`  task log, turn ${turn} (what the log page at FORGE_PUBLIC_URL would show):`));
  for (const event of await h.forge.store.events(task.id, { count: 10_000 })) {
    if (event.turn !== turn) continue;
    for (const line of event.text.split('\n')) out(c.dim(`    ${event.kind.padEnd(6)} ${line}`));
  }
}

async function demo(): Promise<void> {
  const started = Date.now();
  out(c.bold('Forge demo: from a /forge comment to a pull request, offline'));
  out(
    c.dim(
      'Runs here: a private Redis, a git server, a fake GitHub, Forge (web + worker) and a scripted agent. No network, no credentials.',
    ),
  );
  out();
  if (!(await prerequisites())) {
    process.exitCode = 1;
    return;
  }

  step('Starting Redis, the git server, the fake GitHub and Forge …');
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        logs.push(line);
        if (verbose) out(`  ${c.dim('[forge]')} ${formatLog(line)}`);
      }
      done();
    },
  });
  let h: Harness | undefined;
  let starting: Promise<Harness> | undefined;
  let closing: Promise<void> | undefined;
  // Closes whatever was started, also when interrupted halfway through the start; once.
  const cleanup = () => {
    closing ??= (async () => {
      const current = await starting?.catch(() => undefined);
      if (!current) return;
      await Promise.race([current.close(), new Promise((r) => setTimeout(r, 15_000).unref())]);
    })();
    return closing;
  };
  const interrupt = () => {
    out(c.yellow('\nInterrupted; cleaning up …'));
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    starting = startHarness({
      agentCommand: `${sh(process.execPath)} ${sh(AGENT_SCRIPT)}`,
      // A Ctrl-C must not wait 30 s for a running turn to wrap up.
      env: { LOG_LEVEL: 'info', FORGE_SHUTDOWN_GRACE: '2s' },
      overrides: { logDestination },
    });
    h = await starting;
    // The harness seeds a generic repository and issue; the demo tells its own story.
    rmSync(join(h.git.root, `${REPO}.git`), { recursive: true, force: true });
    const mainSha = await h.git.seedRepo(`${REPO}.git`, SAMPLE);
    Object.assign(h.github.issue(REPO, ISSUE)!, { title: ISSUE_TITLE, body: ISSUE_BODY, user: USER });
    step(`Forge is listening at ${h.forge.url}; GitHub is faked at ${h.github.url}`);
    step(
      `Sample repository ${c.bold(REPO)} (main @ ${short(mainSha)}): ${Object.keys(SAMPLE).join(', ')} — ${c.dim('add() has a bug')}`,
    );
    step(`${USER} opened issue #${ISSUE}: ${ISSUE_TITLE}`);
    step(`${USER} commented: ${c.bold(FIRST)}`);
    const turn1Started = Date.now();
    const first = await h.comment({ number: ISSUE, body: FIRST, user: USER });
    if (first.status !== 200) throw new Error(`Forge answered the webhook with HTTP ${first.status}`);
    step(
      'Forge answered the webhook at once and queued a turn; waiting for the agent, the push and the PR …',
    );
    const task1 = await settledTurn(h, ISSUE, 1, 'turn 1');
    const t1 = task1.turns[0]!;
    const pr = task1.changeRequest?.number;
    if (!pr) throw new Error('turn 1 completed but no pull request was opened');
    step(`Turn 1 ${c.green('completed')} in ${seconds(Date.now() - turn1Started)}`);
    const writesAfterTurn1 = h.github.writes().length;
    await printTaskLog(h, task1, 1);

    const issue = h.github.issue(REPO, ISSUE)!;
    heading(`1. Issue #${ISSUE}: ${issue.title}`);
    out();
    out(`  ${c.bold(issue.user)} opened this issue`);
    quote(issue.body ?? '');
    printConversation(h, ISSUE);

    heading('2. Check run');
    printCheck(h, t1);

    const pull = h.github.pulls(REPO).find((p) => p.number === pr)!;
    heading(`3. Pull request #${pull.number}: ${pull.title}`);
    out(
      `  ${c.cyan(pull.head)} → ${c.cyan(pull.base)} · ${pull.draft ? 'draft' : 'ready for review (not a draft)'} · opened by ${pull.user}`,
    );
    quote(asRendered(pull.body ?? ''));

    heading(`4. Commit on ${task1.branch}`);
    await printCommit(h, t1.commitSha!);
    await printDiff(h, 'main', t1.commitSha!);

    // ---- the follow-up: a conversation on the PR ----
    heading(`5. Follow-up on PR #${pr}`);
    const lastBefore = Math.max(0, ...h.github.comments(REPO, pr).map((x) => x.id));
    out();
    step(`${USER} commented on PR #${pr}: ${c.bold(SECOND)}`);
    const turn2Started = Date.now();
    await h.comment({ number: pr, body: SECOND, user: USER, isPullRequest: true });
    const task2 = await settledTurn(h, pr, 2, 'turn 2 (the follow-up)');
    const t2 = task2.turns[1]!;
    step(`Turn 2 ${c.green('completed')} in ${seconds(Date.now() - turn2Started)}`);
    if (task2.id !== task1.id) throw new Error('the follow-up started a new task instead of continuing');
    await printTaskLog(h, task2, 2);
    printConversation(h, pr, lastBefore);
    out();
    printCheck(h, t2);
    out();
    await printCommit(h, t2.commitSha!);
    await printDiff(h, t1.commitSha!, t2.commitSha!);
    const commits = await h.git.log(`${REPO}.git`, `main..${task2.branch!}`, 10);
    out();
    out(`  PR #${pr} now has ${c.bold(String(commits.length))} commits on ${c.cyan(task2.branch!)}:`);
    for (const x of commits) out(`    ${c.yellow(short(x.sha))} ${x.message.split('\n')[0]}`);
    const still = h.github.pulls(REPO).filter((p) => p.head === task2.branch);
    out(
      `  Still one pull request for the task (${still.map((p) => `#${p.number}`).join(', ')}), same branch.`,
    );

    h.github.assertNoViolations();
    const writes = h.github.writes();
    heading('Summary');
    out(
      `  Two turns, one issue, one PR with two commits in ${c.bold(seconds(Date.now() - started))} (including start-up).`,
    );
    const byOperation = new Map<string, number>();
    for (const w of writes) {
      const op = w.operationId ?? `${w.method} ${w.path}`;
      byOperation.set(op, (byOperation.get(op) ?? 0) + 1);
    }
    out(
      `  Forge made ${c.bold(String(writes.length))} GitHub API writes (${writesAfterTurn1} for turn 1, ${writes.length - writesAfterTurn1} for turn 2), about 1 s apart as GitHub asks of apps:`,
    );
    out(c.dim(`    ${[...byOperation].map(([op, n]) => `${op} ×${n}`).join(', ')}`));
    out('  Every request matched GitHub’s OpenAPI description (the fake rejects anything else).');
    out();
    out(`  ${c.bold('Run it for real: see README → Running Forge for real')}`);
  } catch (error) {
    out();
    out(c.red(`✗ The demo failed: ${(error as Error).message}`));
    if (!verbose && logs.length > 0) {
      out(c.dim('Last lines of Forge’s log (run `npm run demo -- --verbose` for all of them):'));
      for (const line of logs.slice(-15)) out(`  ${formatLog(line)}`);
    }
    process.exitCode = 1;
  } finally {
    await cleanup().catch((error: unknown) => out(c.red(`cleanup failed: ${(error as Error).message}`)));
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

process.chdir(ROOT);
await demo().catch((error: unknown) => {
  out(c.red(`✗ The demo failed: ${(error as Error)?.stack ?? String(error)}`));
  process.exitCode = 1;
});
// Stray handles (a reconnecting client, a timer) must not keep a finished demo alive.
setTimeout(() => process.exit(), 500).unref();

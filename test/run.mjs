#!/usr/bin/env node
/**
 * The test command (`npm test`). Runs every `*.test.ts` under test/ and src/ with node's own test
 * runner, prints the spec reporter's readable output, and ends with exactly one summary line:
 *
 *   N passed, M failed            or            N passed, M failed, K skipped
 *
 * counting test cases (leaf tests; see test/kit/count-reporter.mjs). The line is printed even when
 * a file crashes at load or the runner itself dies, and the exit code is non-zero if anything failed.
 *
 * Usage:
 *   node test/run.mjs                         all tests
 *   node test/run.mjs test/kit src/config     files, or every test file under a directory
 *   node test/run.mjs redis                   substring filter on the file path
 *   node test/run.mjs -- --test-name-pattern=x   anything starting with "-" goes to node as is
 *
 * Environment: TEST_CONCURRENCY (files in parallel; default: the number of cores, at least 2),
 * TEST_TIMEOUT_MS (per test; default 600000).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const reporter = join(root, 'test', 'kit', 'count-reporter.mjs');

/** Every `*.test.ts` under dir, skipping node_modules and dot-directories (.git, .forge). */
function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

function selectFiles(args) {
  const all = ['test', 'src']
    .map((d) => join(root, d))
    .filter((d) => existsSync(d))
    .flatMap(findTests);
  if (args.length === 0) return all;
  const chosen = new Set();
  for (const arg of args) {
    const path = resolve(arg);
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) for (const f of findTests(path)) chosen.add(f);
      else chosen.add(path);
    } else {
      for (const f of all) if (relative(root, f).includes(arg)) chosen.add(f);
    }
  }
  return [...chosen];
}

function summaryLine(passed, failed, skipped) {
  return skipped > 0
    ? `${passed} passed, ${failed} failed, ${skipped} skipped`
    : `${passed} passed, ${failed} failed`;
}

const argv = process.argv.slice(2);
const dashDash = argv.indexOf('--');
const positional = (dashDash === -1 ? argv : argv.slice(0, dashDash)).filter((a) => !a.startsWith('-'));
const passThrough = [
  ...(dashDash === -1 ? argv : argv.slice(0, dashDash)).filter((a) => a.startsWith('-')),
  ...(dashDash === -1 ? [] : argv.slice(dashDash + 1)),
];

const files = selectFiles(positional).sort();
if (files.length === 0) {
  console.log(`No test files matched ${positional.length ? positional.join(' ') : 'under test/ and src/'}.`);
  console.log(summaryLine(0, 0, 0));
  process.exit(1);
}

// Test files spend most of their time waiting on Redis, git and child processes, so one file per
// core (2 here) keeps the machine busy without tests starving each other's timers.
const concurrency = Number(process.env.TEST_CONCURRENCY) || Math.max(2, availableParallelism());
const timeout = Number(process.env.TEST_TIMEOUT_MS) || 600_000;

const work = mkdtempSync(join(tmpdir(), 'forge-test-run-'));
const countsFile = join(work, 'counts.jsonl');

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeout}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${countsFile}`,
    ...passThrough,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit' },
);

// Ctrl-C reaches the whole process group anyway; just make sure we outlive the child to print.
const forward = (signal) => () => child.kill(signal);
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));

const { code, signal, spawnError } = await new Promise((done) => {
  child.on('error', (spawnError) => done({ code: null, signal: null, spawnError }));
  child.on('exit', (code, signal) => done({ code, signal, spawnError: undefined }));
});

let passed = 0;
let failed = 0;
let skipped = 0;
let text = '';
try {
  text = readFileSync(countsFile, 'utf8');
} catch {
  // No file: the runner died before the reporter wrote anything.
}
for (const line of text.split('\n')) {
  if (!line.trim()) continue;
  try {
    const { result } = JSON.parse(line);
    if (result === 'pass') passed++;
    else if (result === 'fail') failed++;
    else if (result === 'skip') skipped++;
  } catch {
    // A torn last line from a killed runner: ignore it, the non-zero exit below still fails the run.
  }
}
rmSync(work, { recursive: true, force: true });

// The runner's own verdict wins when the counts missed something (killed runner, reporter crash).
if (spawnError) console.error(`Could not start the test runner: ${spawnError.message}`);
else if (signal) console.error(`The test runner was killed by ${signal}.`);
const runnerFailed = Boolean(spawnError) || signal !== null || code !== 0;
if (runnerFailed && failed === 0) failed = 1;

console.log(summaryLine(passed, failed, skipped));
process.exit(failed > 0 || runnerFailed ? 1 : 0);

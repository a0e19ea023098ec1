/**
 * Finding every process a local exec started, also those that left its process group: agent CLIs
 * (Gemini CLI, OpenCode) start each tool command in a process group of its own, so signalling the
 * exec's group leaves a `sleep 60` of the tool running. Each exec carries a tag in its environment
 * (EXEC_TAG_VAR); children inherit it, and /proc/<pid>/environ shows the environment a process
 * started with, readable for one's own processes without privileges. A child started with a
 * scrubbed environment is still found while its parent is: descendants of tagged processes count.
 * A process that clears its environment and detaches from its parent escapes (the local sandbox is
 * no security boundary); without procfs (macOS) nothing is found and only process groups apply.
 */
import { readdir, readFile } from 'node:fs/promises';
import { parseStat } from './process-group.js';

export const EXEC_TAG_VAR = 'FORGE_SANDBOX_EXEC';
const NEEDLE = Buffer.from(`${EXEC_TAG_VAR}=`);

/** Which tag values to look for: one exec's (`exact`) or a whole session's (`prefix`). */
export type TagMatch = { exact: string } | { prefix: string };

/** Live (not zombie) processes whose tag matches, and their descendants. */
export async function taggedProcesses(match: TagMatch): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const procs = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .map(async (entry) => {
        const pid = Number(entry);
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').then(parseStat, () => undefined);
        if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
        const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
        return { pid, ppid: stat.ppid, tagged: environ !== undefined && matches(tagOf(environ), match) };
      }),
  );
  const children = new Map<number, number[]>();
  const selected = new Set<number>();
  for (const proc of procs) {
    if (!proc) continue;
    const siblings = children.get(proc.ppid);
    if (siblings) siblings.push(proc.pid);
    else children.set(proc.ppid, [proc.pid]);
    if (proc.tagged) selected.add(proc.pid);
  }
  for (const pid of selected) for (const child of children.get(pid) ?? []) selected.add(child);
  return [...selected];
}

/**
 * SIGTERM every matching process, wait up to `graceMs` for them to go, then freeze (SIGSTOP) and
 * SIGKILL what is left, again until none is left: a process may fork while we look.
 */
export async function terminateTagged(match: TagMatch, graceMs: number): Promise<void> {
  let pids = await taggedProcesses(match);
  const deadline = Date.now() + graceMs;
  while (pids.length > 0 && Date.now() < deadline) {
    signalAll(pids, 'SIGTERM');
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    pids = await taggedProcesses(match);
  }
  for (let round = 0; pids.length > 0 && round < 100; round++) {
    // Stopped processes cannot fork: look once more for children started meanwhile, then kill all.
    signalAll(pids, 'SIGSTOP');
    const all = [...new Set([...pids, ...(await taggedProcesses(match))])];
    signalAll(all, 'SIGSTOP');
    signalAll(all, 'SIGKILL');
    await sleep(10);
    pids = await taggedProcesses(match);
  }
}

function tagOf(environ: Buffer): string | undefined {
  for (let at = environ.indexOf(NEEDLE); at !== -1; at = environ.indexOf(NEEDLE, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue; // the name is part of a longer one
    const start = at + NEEDLE.length;
    const end = environ.indexOf(0, start);
    return environ.subarray(start, end === -1 ? environ.length : end).toString('utf8');
  }
  return undefined;
}

function matches(tag: string | undefined, match: TagMatch): boolean {
  if (tag === undefined) return false;
  return 'exact' in match ? tag === match.exact : tag.startsWith(match.prefix);
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already, or not ours (a setuid program): nothing we can do either way.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

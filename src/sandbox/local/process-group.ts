/**
 * Process-group helpers. Every local exec runs as the leader of its own group (`detached: true`),
 * so signalling `-pgid` reaches everything the agent started — shells, test runners, `sleep &` —
 * except what moved to a group of its own (setsid, or an agent CLI's tool commands): process-tag.ts
 * finds those.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Sends `signal` to the whole group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // ESRCH: nobody left in the group. EPERM: a member changed uid (setuid binary) — we cannot
    // touch it either way, so treat both as "nothing we can do".
    if (isErrno(error, 'ESRCH') || isErrno(error, 'EPERM')) return false;
    throw error;
  }
}

/** Cheap and conservative: a group of only zombies still counts as alive. */
export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

/**
 * Whether the group has a member that is not a zombie. Orphaned grandchildren are reparented to
 * PID 1, and in a container whose PID 1 does not reap (node itself, or a slow init) their zombies
 * answer kill(-pgid, 0) indefinitely — without this check every teardown would wait the full grace.
 */
export async function groupHasLiveMembers(pgid: number): Promise<boolean> {
  if (!groupAlive(pgid)) return false;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true; // no procfs (macOS): trust kill -0
  }
  const states = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').then(parseStat, () => undefined)),
  );
  return states.some((stat) => stat?.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X');
}

/** /proc/<pid>/stat: "pid (comm) state ppid pgrp …" — comm may contain spaces and parentheses. */
export function parseStat(text: string): { state: string; ppid: number; pgrp: number } | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  return state && ppid && pgrp ? { state, ppid: Number(ppid), pgrp: Number(pgrp) } : undefined;
}

/** SIGTERM the group, wait up to `graceMs` for it to disappear, then SIGKILL whatever is left. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    if (!(await groupHasLiveMembers(pgid))) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

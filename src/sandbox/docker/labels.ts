/**
 * Labels on every agent container, and the pure rule that decides which containers are orphans.
 *
 * Several workers may share one engine, so the reaper must never remove a live turn of another
 * worker. Each container therefore carries:
 *   forge.worker    the stable id of the worker that made it (FORGE_WORKER_ID, default hostname)
 *   forge.owner     the exact process: boot id / pid namespace / pid / process start time
 *   forge.deadline  epoch ms after which no turn can legitimately still be using it (the turn
 *                   timeout plus slack; the session itself never runs a command past it)
 * A container is an orphan when it is past its deadline (any worker's), or when it belongs to this
 * worker id but to no live session of this process and its owning process is gone (a previous run
 * of this worker crashed, or a destroy failed).
 */
import { readFileSync, readlinkSync } from 'node:fs';

export const LABEL_MANAGED = 'forge.managed';
export const LABEL_WORKER = 'forge.worker';
export const LABEL_OWNER = 'forge.owner';
export const LABEL_DEADLINE = 'forge.deadline';
export const LABEL_SCRATCH = 'forge.scratch';

export interface ContainerSummary {
  id: string;
  /** Container names as the engine lists them (with a leading `/`). */
  names: string[];
  labels: Record<string, string>;
}

export type OrphanReason = 'past_deadline' | 'leftover_of_this_worker';

export interface OrphanContext {
  workerId: string;
  /** Names of this process's live (or being created) containers. */
  liveNames: ReadonlySet<string>;
  /** This process's owner label. */
  self: string;
  now: number;
  /** True when the process an owner label names is still running (on this machine). */
  ownerAlive(owner: string): boolean;
}

export function orphanReason(container: ContainerSummary, ctx: OrphanContext): OrphanReason | undefined {
  const labels = container.labels;
  if (labels[LABEL_MANAGED] !== 'true') return undefined;
  const names = container.names.map((n) => n.replace(/^\//, ''));
  if (names.some((n) => ctx.liveNames.has(n))) return undefined;
  const deadline = Number(labels[LABEL_DEADLINE]);
  // A missing or garbled deadline counts as expired: we always write one.
  if (!Number.isFinite(deadline) || ctx.now > deadline) return 'past_deadline';
  if (labels[LABEL_WORKER] !== ctx.workerId) return undefined;
  const owner = labels[LABEL_OWNER] ?? '';
  // Same worker id, not one of ours: another process of the same id that is still alive keeps its
  // container until the deadline (two workers misconfigured with one id must not kill each other).
  if (owner !== ctx.self && ctx.ownerAlive(owner)) return undefined;
  return 'leftover_of_this_worker';
}

function readOr(read: () => string, fallback: string): string {
  try {
    return read();
  } catch {
    return fallback;
  }
}

const bootId = () => readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), 'noboot');
const pidNamespace = () => readOr(() => readlinkSync('/proc/self/ns/pid').replace(/\D/g, ''), 'nons');

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTime(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from its closing `)`.
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .at(22 - 3);
  } catch {
    return undefined;
  }
}

/** `boot/pidns/pid/start`: names this process unambiguously on this machine. */
export function ownerLabel(pid = process.pid): string {
  return `${bootId()}/${pidNamespace()}/${pid}/${startTime(pid === process.pid ? 'self' : pid) ?? '0'}`;
}

/** Whether the process an owner label names still runs (false when it is not on this machine). */
export function ownerAlive(owner: string): boolean {
  const [boot, ns, pid, start] = owner.split('/');
  if (boot !== bootId() || ns !== pidNamespace() || !pid || !/^\d+$/.test(pid)) return false;
  return startTime(Number(pid)) === start;
}

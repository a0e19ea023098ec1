/**
 * Removes agent homes (`<workspace>/homes/<task id>`, where the CLIs keep their sessions) once
 * their task is closed or its record has expired. A home holds session transcripts of private
 * repositories and grows with every turn, so it must not outlive the conversation it serves.
 * Failures are logged and retried next round: the sweep must never take the worker down.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Task } from './types.js';

/** Where agent homes live under the workspace dir; one per task, kept across its turns. */
export function homesDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'homes');
}

/** What a task id looks like (`newTaskId`): anything else in the directory is left alone. */
const TASK_ID = /^t[0-9a-z]{6,20}$/;

export interface HomeSweeperOptions {
  homesDir: string;
  store: { get(id: string): Promise<Task | undefined> };
  log: Pick<Logger, 'info' | 'warn'>;
  intervalMs?: number;
}

/** One round: the homes removed. */
export async function sweepHomes(options: Omit<HomeSweeperOptions, 'intervalMs'>): Promise<string[]> {
  const entries = await readdir(options.homesDir, { withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !TASK_ID.test(entry.name)) continue;
    const task = await options.store.get(entry.name);
    if (task && task.state !== 'closed') continue;
    try {
      await rm(join(options.homesDir, entry.name), { recursive: true, force: true, maxRetries: 2 });
      removed.push(entry.name);
    } catch (error) {
      options.log.warn(
        { err: error, taskId: entry.name },
        'could not remove the agent home of a finished task',
      );
    }
  }
  return removed;
}

export function startHomeSweeper(options: HomeSweeperOptions): { stop(): Promise<void> } {
  let round: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    round = round
      .then(() => sweepHomes(options))
      .then(
        (removed) => {
          if (removed.length)
            options.log.info({ removed: removed.length }, 'removed agent homes of finished tasks');
        },
        (error: unknown) => options.log.warn({ err: error }, 'could not sweep agent homes'),
      );
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs ?? 30 * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

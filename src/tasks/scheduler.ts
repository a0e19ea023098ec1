import type { Queue } from 'bullmq';
import type { TurnJob } from './jobs.js';
import { turnJobId } from './jobs.js';
import type { TaskStore } from './store.js';
import { nextQueuedTurn, queuedInOrder, transitionTurn } from './transitions.js';

/**
 * Serializes turns per task across any number of workers (BullMQ's open-source edition has no
 * group concurrency). The task record is the per-task queue: at most one turn is "dispatched"
 * (handed to BullMQ) at a time; finishing a turn dispatches the next. Claiming is a
 * compare-and-set on the task, and the BullMQ job id is deterministic, so a repeated dispatch
 * never creates a second job. `reconcile` repairs the one gap: a crash between claim and add.
 */
export class TurnScheduler {
  constructor(
    private readonly store: TaskStore,
    private readonly turns: Queue<TurnJob>,
  ) {}

  /** Hands the task's next queued turn to the queue, unless one is already dispatched. */
  async dispatchNext(taskId: string): Promise<number | undefined> {
    // Active before the claim: a crash right after the claim must leave the task where reconcile looks.
    await this.store.markActive(taskId);
    const { task, result: turn } = await this.store.update(taskId, (t) => {
      if (t.state === 'closed' || t.dispatchedTurn !== undefined) return undefined;
      const next = nextQueuedTurn(t);
      if (!next) return undefined;
      t.dispatchedTurn = next.n;
      return next.n;
    });
    if (turn === undefined) {
      if (task.dispatchedTurn === undefined && !nextQueuedTurn(task)) await this.store.markIdle(taskId);
      return undefined;
    }
    await this.turns.add('turn', { v: 1, taskId, turn }, { jobId: turnJobId(taskId, turn) });
    return turn;
  }

  /** 1-based position of `turn` among the task's waiting turns (1 = runs next). */
  async placeInLine(taskId: string, turn: number): Promise<number> {
    const task = await this.store.get(taskId);
    if (!task) return 0;
    const waiting = [...task.turns.filter((t) => t.state === 'running'), ...queuedInOrder(task)];
    return waiting.findIndex((t) => t.n === turn) + 1;
  }

  /**
   * Repairs tasks whose dispatched turn has no live job: re-adds a lost job, fails a turn whose job
   * died for good, and dispatches waiting turns. Safe to run on every worker, any time.
   */
  async reconcile(onLost: (taskId: string, turn: number) => Promise<void>): Promise<void> {
    for (const taskId of await this.store.activeTaskIds()) {
      const task = await this.store.get(taskId);
      if (!task || task.state === 'closed') {
        await this.store.markIdle(taskId);
        continue;
      }
      const n = task.dispatchedTurn;
      if (n !== undefined) {
        const job = await this.turns.getJob(turnJobId(taskId, n));
        const state = job ? await job.getState() : 'missing';
        const turn = task.turns.find((t) => t.n === n);
        if (state === 'missing' && turn?.state === 'queued') {
          await this.turns.add('turn', { v: 1, taskId, turn: n }, { jobId: turnJobId(taskId, n) });
        } else if (
          (state === 'failed' || state === 'completed' || state === 'missing') &&
          turn &&
          !isDone(turn.state)
        ) {
          await onLost(taskId, n);
        } else if (turn && isDone(turn.state)) {
          await this.store.update(taskId, (t) => {
            if (t.dispatchedTurn === n) t.dispatchedTurn = undefined;
          });
          await this.dispatchNext(taskId);
        }
        continue;
      }
      await this.dispatchNext(taskId);
    }
  }

  /** Marks a turn failed because its worker was lost, then moves the task on. */
  async failLost(taskId: string, turn: number, message: string): Promise<boolean> {
    const { result } = await this.store.update(taskId, (t) => {
      const current = t.turns.find((x) => x.n === turn);
      if (!current || isDone(current.state)) return false;
      if (current.state === 'queued') transitionTurn(t, turn, 'running');
      // Work an attempt pushed before it was lost stays the turn's commit.
      const sha = current.published?.patch.commitSha;
      delete current.published;
      transitionTurn(t, turn, 'failed', {
        endReason: 'worker_lost',
        error: message,
        ...(sha ? { commitSha: sha } : {}),
      });
      return true;
    });
    await this.dispatchNext(taskId);
    return result;
  }
}

function isDone(state: string): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

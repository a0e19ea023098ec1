import type { Logger } from 'pino';
import { conversationOf } from '../forge/conversation.js';
import type { Conversation, Forge } from '../forge/types.js';
import { type Phase, renderCheckSummary, renderSticky } from '../progress/render.js';
import { ProgressReporter } from '../progress/reporter.js';
import { LogBuffer } from './log-buffer.js';
import { isFinished } from './transitions.js';
import type { TurnDeps } from './turn-deps.js';
import type { Superseded } from './turn-fence.js';
import type { Task, Turn, TurnEndReason, TurnState } from './types.js';

/** How a turn ends, before it is written to the store. */
export interface Outcome {
  state: Exclude<TurnState, 'queued' | 'running'>;
  endReason?: TurnEndReason;
  error?: string;
}

/**
 * One attempt at running a turn: the task as last read, the forge, the outcome so far, and the
 * progress surfaces (sticky comment, check, task log) every step of the turn reports through.
 */
export class TurnRun {
  task: Task;
  phase: Phase = 'preparing';
  /** What the agent is doing right now, for the sticky comment. */
  activity?: string;
  /** The commit the turn's check hangs on (none before the first push of a new branch). */
  checkSha?: string;
  outcome: Outcome = { state: 'failed', endReason: 'error', error: 'The turn ended unexpectedly.' };
  /** What the turn did, written to the turn when it finishes. */
  readonly patch: Partial<Turn> = {};
  /** Stops the agent (and whatever runs in the sandbox): stop, shutdown, limits. */
  readonly abort = new AbortController();
  readonly reporter: ProgressReporter;
  readonly lines: LogBuffer;
  readonly log: Logger;
  readonly where: Conversation;
  /** Set when another attempt owns the turn: this one reports nothing more. */
  superseded?: Superseded;
  private readonly logUrl: string | undefined;

  constructor(
    readonly deps: TurnDeps,
    task: Task,
    readonly n: number,
    readonly forge: Forge,
    /** This attempt's id (see `Turn.attemptId`). */
    readonly attemptId: string,
  ) {
    this.task = task;
    const taskId = task.id;
    this.log = deps.log.child({ taskId, turn: n, repo: task.repo.path });
    this.logUrl = deps.logUrl(taskId);
    this.where = conversationOf(this.turn.place);
    this.reporter = new ProgressReporter({
      forge,
      writeSticky: (body) => deps.stickies.write(forge, taskId, this.where, body),
      minIntervalMs: deps.minWriteIntervalMs ?? 1000,
      redact: (text) => deps.redactor.redact(text),
      onError: (error) => this.log.warn({ err: error }, 'progress write failed'),
      onCheckCreated: async (id, sha) => {
        await deps.store.update(taskId, (t) => {
          const turn = this.turnOf(t);
          // A superseded attempt's check is not the turn's.
          if (turn.attemptId !== attemptId) return;
          turn.checkRunId = id;
          turn.checkSha = sha;
        });
      },
    });
    this.lines = new LogBuffer((batch) =>
      deps.store.appendEvent(taskId, n, 'output', batch.map((l) => deps.redactor.redact(l)).join('\n')),
    );
  }

  get taskId(): string {
    return this.task.id;
  }

  /** This turn in `t` (default: the task as last read). */
  turnOf(t: Task = this.task): Turn {
    return t.turns.find((x) => x.n === this.n)!;
  }

  get turn(): Turn {
    return this.turnOf(this.task);
  }

  /** Compare-and-set on the task (see TaskStore.update); keeps the stored result as `task`. */
  async update<R>(mutate: (t: Task) => R): Promise<R> {
    const { task, result } = await this.deps.store.update(this.taskId, mutate);
    this.task = task;
    return result;
  }

  /** A line in the task's log (redacted); never fails the turn. */
  note(text: string): Promise<unknown> {
    return this.deps.store
      .appendEvent(this.taskId, this.n, 'state', this.deps.redactor.redact(text))
      .catch(() => undefined);
  }

  /** Shows the turn as it is now on the sticky comment and the check. */
  render(): void {
    if (this.superseded) return;
    const { task, n, forge, logUrl } = this;
    const view = {
      phase: this.phase,
      now: new Date(),
      ...(this.activity ? { activity: this.activity } : {}),
      ...(logUrl ? { logUrl } : {}),
    };
    const turn = this.turn;
    this.reporter.setSticky(renderSticky(task, turn, view, forge.words));
    const check = renderCheckSummary(task, turn, view, forge.words);
    this.reporter.setCheck(
      {
        ...(this.checkSha ? { sha: this.checkSha } : {}),
        status: isFinished(turn.state) ? 'completed' : 'in_progress',
        ...(isFinished(turn.state)
          ? {
              conclusion:
                turn.state === 'completed' ? 'success' : turn.state === 'failed' ? 'failure' : 'cancelled',
            }
          : {}),
        title: check.title,
        summary: check.summary,
        externalId: `${task.id}-${n}`,
        ...(logUrl ? { detailsUrl: logUrl } : {}),
        ...(task.branch ? { ref: task.branch } : {}),
      },
      turn.checkRunId,
    );
  }

  setPhase(next: Phase): void {
    this.phase = next;
    this.render();
  }

  /**
   * Aborts the turn on `/forge stop` (even one asked before the turn started) and when the worker
   * shuts down. Returns the function that stops listening.
   */
  async listenForStops(): Promise<() => void> {
    const { deps, abort } = this;
    const tracker = deps.cancel.track(this.taskId, this.n);
    const onStop = () => abort.abort(tracker.signal.reason);
    tracker.signal.addEventListener('abort', onStop, { once: true });
    const onShutdown = () => abort.abort(new Error('shutdown'));
    deps.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
    if (await deps.cancel.isRequested(this.taskId, this.n)) abort.abort(new Error('stopped'));
    return () => {
      tracker.signal.removeEventListener('abort', onStop);
      // The worker's shutdown signal outlives every turn: leave no listener behind.
      deps.shutdownSignal?.removeEventListener('abort', onShutdown);
      tracker.release();
    };
  }
}

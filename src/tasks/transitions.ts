import type { Task, TaskState, Turn, TurnState } from './types.js';

/** Every allowed turn transition, in one place. */
const TURN_TRANSITIONS: Record<TurnState, readonly TurnState[]> = {
  queued: ['running', 'cancelled'],
  // running → running: a worker crashed (or lost the job's lock) and another picked the turn up
  // again; the new attempt's id fences the old one out (see `Turn.attemptId`).
  running: ['running', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export class TransitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransitionError';
  }
}

export function isFinished(state: TurnState): boolean {
  return TURN_TRANSITIONS[state].length === 0;
}

export function canTransition(from: TurnState, to: TurnState): boolean {
  return TURN_TRANSITIONS[from].includes(to);
}

/** Moves a turn to `to` (mutating the task), and derives the task's state from its turns. */
export function transitionTurn(
  task: Task,
  n: number,
  to: TurnState,
  patch: Partial<Turn> = {},
  now = new Date(),
): Turn {
  const turn = task.turns.find((t) => t.n === n);
  if (!turn) throw new TransitionError(`task ${task.id} has no turn ${n}`);
  if (!canTransition(turn.state, to)) {
    throw new TransitionError(`turn ${n} of task ${task.id} cannot go from ${turn.state} to ${to}`);
  }
  Object.assign(turn, patch);
  turn.state = to;
  if (to === 'running') {
    turn.startedAt = now.toISOString();
    turn.attempts += 1;
    // Every start hands the turn to a new owner: whichever attempt held it before no longer does.
    if (patch.attemptId === undefined) delete turn.attemptId;
  }
  if (isFinished(to)) turn.finishedAt = now.toISOString();
  if (isFinished(to) && task.dispatchedTurn === n) task.dispatchedTurn = undefined;
  task.state = deriveTaskState(task);
  task.updatedAt = now.toISOString();
  return turn;
}

export function closeTask(task: Task, now = new Date()): Turn[] {
  const cancelled: Turn[] = [];
  for (const turn of task.turns) {
    if (turn.state === 'queued') {
      transitionTurn(
        task,
        turn.n,
        'cancelled',
        { endReason: 'task_closed', error: 'The task ended before this turn ran.' },
        now,
      );
      cancelled.push(turn);
    }
  }
  task.state = 'closed';
  task.closedAt = now.toISOString();
  task.updatedAt = task.closedAt;
  return cancelled;
}

export function deriveTaskState(task: Task): TaskState {
  if (task.state === 'closed') return 'closed';
  if (task.turns.some((t) => t.state === 'running')) return 'running';
  if (task.turns.some((t) => t.state === 'queued')) return 'queued';
  return 'awaiting_instruction';
}

/**
 * Waiting turns in the order they run: by when they were asked for (the comment's own time), then
 * by number. Webhooks, and the jobs that queue their turns, can finish out of order; this cannot.
 */
export function queuedInOrder(task: Task): Turn[] {
  const at = (t: Turn) => Date.parse(t.askedAt ?? t.createdAt) || 0;
  return task.turns.filter((t) => t.state === 'queued').sort((a, b) => at(a) - at(b) || a.n - b.n);
}

export function nextQueuedTurn(task: Task): Turn | undefined {
  return queuedInOrder(task)[0];
}

export function runningTurn(task: Task): Turn | undefined {
  return task.turns.find((t) => t.state === 'running');
}

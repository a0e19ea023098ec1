import type { Usage } from '../agents/types.js';
import type { RunOptions } from '../commands/types.js';
import type { CommentPlace, RepoRef } from '../forge/types.js';
import type { CapKind } from './budget.js';
import type { FeedbackSnapshot } from './feedback.js';

/**
 * A task is the durable conversation bound to one issue and the change request it opens;
 * a turn is one run of the agent on it.
 */
export type TaskState = 'queued' | 'running' | 'awaiting_instruction' | 'closed';
export type TurnState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Why a turn that did not complete ended; drives the wording users see. */
export type TurnEndReason =
  | 'agent_failed'
  | 'stopped'
  | 'timeout'
  | 'idle_timeout'
  | 'worker_lost'
  | 'push_rejected'
  /** A step, cost or token cap stopped the turn (its work is kept). */
  | 'limit'
  | 'task_closed'
  | 'error';

export interface Turn {
  n: number;
  /** Snapshot of the instruction when the turn was triggered: later edits change nothing. */
  instruction: string;
  requestedBy: string;
  requestedById: number;
  place: CommentPlace;
  /** Snapshot of the issue or change request the turn was asked on (title and body). */
  context: { title: string; body: string };
  commentId?: number;
  deliveryId: string;
  options: RunOptions;
  state: TurnState;
  createdAt: string;
  /** When the comment that asked for it was written, from the webhook (runs in this order). */
  askedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Times a worker picked the turn up (more than one after a worker crash). */
  attempts: number;
  /**
   * The attempt that owns the running turn: a fresh id each time a worker starts it. An older
   * attempt that finds another id here (its worker lost the job's lock while alive) stops its agent,
   * pushes nothing and leaves the turn to the newer one.
   */
  attemptId?: string;
  /**
   * The turn's work, recorded the moment it was published (pushed, kept on a rescue branch, or
   * nothing to push), before the turn is finished. An attempt that picks the turn up again after
   * its worker died finishes the turn from this record instead of running the agent again.
   * Cleared when the turn finishes.
   */
  published?: PublishedWork;
  endReason?: TurnEndReason;
  /** Which cap ended it, when `endReason` is `limit`. */
  limit?: CapKind;
  /** User-facing explanation when the turn did not complete. */
  error?: string;
  commitSha?: string;
  /** Files the agent changed that Forge could not push (e.g. workflows). */
  excludedPaths?: string[];
  summary?: string;
  usage?: Usage;
  checkRunId?: number;
  /** Commit the check hangs on (a GitLab commit status can only be updated through its commit). */
  checkSha?: string;
  /** Set when nothing changed. */
  noChanges?: boolean;
  /**
   * How the turn was asked for (absent: a plain `/forge <instruction>`). `plan`: propose a plan,
   * commit nothing; `approve`: run an approved plan; `continue`: pick up an interrupted turn;
   * `address_reviews`: address every unresolved review thread.
   */
  mode?: TurnMode;
  /** For `approve`: the plan turn and its plan (agent-written), with the user's changes to it. */
  approvedPlan?: { turn: number; plan: string; edits?: string };
  /** For `continue`: the interrupted turn, how it ended and the commit it left on the branch. */
  continues?: { turn: number; state: 'failed' | 'cancelled'; endReason?: TurnEndReason; commitSha?: string };
  /** For `plan`: files the agent changed anyway, which Forge left out (nothing is committed). */
  discardedPaths?: string[];
  /**
   * For `address_reviews`: the review threads (ids `replyInThread` takes) listed in the turn's
   * prompt when it started; Forge answers in each of them when the turn ends.
   */
  reviewThreads?: string[];
  /**
   * The change request's review feedback as it was when the turn was asked for (bounded, ~80k
   * characters), so later edits change nothing for this turn. Dropped once the turn is finished.
   */
  feedback?: FeedbackSnapshot;
}

/** What a turn published, kept until the turn finishes (see `Turn.published`). */
export interface PublishedWork {
  /** The attempt that published it; absent when a later attempt found the turn's commit on the branch. */
  attemptId?: string;
  at: string;
  outcome: { state: 'completed' | 'failed' | 'cancelled'; endReason?: TurnEndReason; error?: string };
  /** What the turn record gets when it finishes. */
  patch: Pick<
    Turn,
    'commitSha' | 'summary' | 'usage' | 'excludedPaths' | 'noChanges' | 'discardedPaths' | 'limit'
  >;
}

/**
 * `address_reviews`: handle every unresolved review thread of the change request at once, then
 * answer in each of them.
 */
export type TurnMode = 'plan' | 'approve' | 'continue' | 'address_reviews';

export interface Task {
  v: 1;
  id: string;
  repo: RepoRef;
  issueNumber: number;
  issueTitle: string;
  /**
   * Set when the task was started on a change request, or once it opened one (`openedByForge`: its
   * description is Forge's to keep up to date; absent on tasks stored before it was recorded).
   */
  changeRequest?: { number: number; url: string; openedByForge?: boolean };
  branch?: string;
  requestedBy: string;
  state: TaskState;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  turns: Turn[];
  /** The turn handed to the queue and not finished yet: at most one per task. */
  dispatchedTurn?: number;
  /** Sticky progress comment ids by the conversation they live on (`conversationKey`). */
  stickies?: Record<string, number>;
  /** Agent session ids by agent name, for resuming across turns. */
  sessions?: Record<string, string>;
  /** The plan turn whose plan waits for `/forge approve` (cleared when approved). */
  pendingPlan?: number;
}

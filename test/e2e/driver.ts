import { after, afterEach, before, test } from 'node:test';
import type { RunningForge } from '../../src/app.js';
import type { Task } from '../../src/tasks/types.js';
import type { GitServer } from '../kit/git-server.js';

/**
 * A forge-neutral view of one end-to-end harness, so that one scenario proves the same behaviour on
 * GitHub and on GitLab. It speaks only of what a user sees — comments, reactions, change requests,
 * checks — and leaves the forge's own words (pull request / merge request, check run / commit
 * status) to the drivers (driver-github.ts, driver-gitlab.ts).
 */
export interface ForgeDriver {
  readonly kind: 'github' | 'gitlab';
  readonly forge: RunningForge;
  readonly git: GitServer;
  /** The repository on the git server (`owner/name.git`, `group/sub/project.git`). */
  readonly gitRepo: string;
  /** The repository's settings file on this forge. */
  readonly settingsPath: string;
  /** The user name Forge comments as. */
  readonly botName: string;
  newIssue(title: string, body?: string): number;
  /** `user` (default alice, who may ask) posts `body` on the issue or change request; its webhook is delivered. */
  ask(
    on: Where,
    body: string,
    user?: string,
    /** When the comment says it was written (default now): webhooks may arrive out of order. */
    writtenAt?: Date,
  ): Promise<{ status: number; commentId: number }>;
  /** The open task on the issue or change request. */
  find(on: Where): Promise<Task | undefined>;
  /** Waits until the task on `on` has `turns` turns, all finished and logged, and returns it. */
  settled(on: Where, turns?: number, timeoutMs?: number): Promise<Task>;
  /** Every comment on the issue or change request, oldest first. */
  comments(on: Where): CommentView[];
  /** Forge's sticky comment of `taskId` on `on`. */
  sticky(on: Where, taskId: string): CommentView | undefined;
  /** Reactions (👀 is `eyes`) on a comment. */
  reactions(commentId: number): string[];
  changeRequests(): ChangeRequestView[];
  /** Forge's checks on a commit, oldest first. */
  checks(sha: string): CheckView[];
  /** Someone merges or closes the change request; its webhook is delivered. */
  closeChangeRequest(number: number, merged: boolean): Promise<{ status: number }>;
  /** Every credential Forge holds for this forge: webhook secret, tokens, keys (for leak scans). */
  secrets(): string[];
  /** Forge's log lines so far. */
  readonly logs: string[];
  /** Forge's workspace (mirrors, checkouts, homes). */
  readonly workspace: string;
  readonly redisUrl: string;
  /** What Forge sent the fake forge: every request's body and parameters, as JSON. */
  apiBodies(): string[];
  /** Waits until no request reached the fake forge for a while. */
  quiet(): Promise<void>;
  assertNoViolations(): void;
  close(): Promise<void>;
}

export type Where = { type: 'issue' | 'change_request'; number: number };
export const onIssue = (number: number): Where => ({ type: 'issue', number });
export const onChangeRequest = (number: number): Where => ({ type: 'change_request', number });

export interface CommentView {
  id: number;
  body: string;
  author: string;
}

export interface ChangeRequestView {
  number: number;
  /** The source branch. */
  branch: string;
  title: string;
  body: string;
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
}

/** A check run (GitHub) or commit status (GitLab), in one vocabulary. */
export interface CheckView {
  name: string;
  state: 'pending' | 'running' | 'success' | 'failure' | 'cancelled' | 'neutral' | 'skipped';
  /** The one line every forge shows (check run title, commit status description). */
  title: string;
  /** The longer text, where the forge has one (a check run's summary; GitLab has none). */
  summary?: string;
}

export const isForgeReply = (d: ForgeDriver, c: CommentView) =>
  c.author === d.botName && !c.body.includes('<!-- forge:task:');

export interface DriverOptions {
  env?: Record<string, string>;
}

export type StartDriver = (options?: DriverOptions) => Promise<ForgeDriver>;

/**
 * One driver per test file: started before the first test and closed after the last; the fake
 * forge's protocol violations (and `extraChecks`) are checked after every test. Returns a getter.
 */
export function useDriver(
  start: StartDriver,
  options: {
    /** Forge's environment, computed after `before` (which may start what it points at). */
    env?: () => Record<string, string>;
    before?: () => Promise<void>;
    extraChecks?: () => void;
  } = {},
): () => ForgeDriver {
  let d: ForgeDriver | undefined;
  before(async () => {
    await options.before?.();
    d = await start(options.env ? { env: options.env() } : {});
  });
  after(async () => {
    await d?.close();
  });
  afterEach(() => {
    d?.assertNoViolations();
    options.extraChecks?.();
  });
  return () => {
    if (!d) throw new Error('the driver is not started');
    return d;
  };
}

/** A scenario: one test body, the same for every forge. */
export interface Scenario {
  name: string;
  run(d: ForgeDriver): Promise<void>;
}

/**
 * Defines a test per scenario. `known` names scenarios that fail on this forge because of a known
 * bug (the reason says which), so they are reported as todo instead of hiding the gap.
 */
export function defineScenarios(
  scenarios: readonly Scenario[],
  driver: () => ForgeDriver,
  known: Readonly<Record<string, string>> = {},
): void {
  for (const s of scenarios) {
    const todo = known[s.name];
    test(s.name, todo ? { todo } : {}, () => s.run(driver()));
  }
}

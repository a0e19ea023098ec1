/**
 * Plain successful turns (comment → PR) on full Forge (`role all`), one at a time on distinct
 * issues, from an idle system:
 * - time from just before the webhook is sent to the agent's first action (the agent command
 *   prints `date +%s%3N` first) and to the task log's `turn N started` event, with the steps in
 *   between (triage's permission check, the 👀 reaction, clone + sandbox);
 * - the GitHub API writes each turn makes (non-GET calls recorded by the fake), by operationId,
 *   and the turn's wall time with GitHub's write spacing.
 */
import { randomBytes } from 'node:crypto';
import type { Task } from '../src/tasks/types.js';
import { AGENT, INSTALLATION, REPO, SECRET, startHarness } from '../test/e2e/harness.js';
import type { RecordedCall } from '../test/kit/fake-github/dispatch.js';
import { buildDelivery, issueCommentCreated, sendDelivery } from '../test/kit/webhooks.js';

export const AGENT_START_MARK = 'FORGE_BENCH_AGENT_START';

export interface TurnOptions {
  /** Measured turns. */
  turns: number;
  /** Unmeasured turns first (cold start: installation token, JIT, first clone). */
  warmup: number;
  /** Forge's spacing between its own progress writes; production default 1000. */
  minWriteIntervalMs: number;
  /** Per-turn limit. */
  timeoutMs: number;
}

/** Milliseconds after the webhook was sent (undefined when the step was not seen). */
export interface TurnMarks {
  webhookAnswered: number;
  permissionChecked?: number;
  eyesReaction?: number;
  turnStarted?: number;
  /** The clone's first request reached the git server. */
  cloneStarted?: number;
  agentStarted?: number;
  pullOpened?: number;
  /** The turn's last GitHub write (final sticky edit / check run update). */
  lastWrite?: number;
  /** The task log's closing `turn N completed` note. */
  settled: number;
}

export interface TurnSample {
  issue: number;
  warmup: boolean;
  state: string;
  marks: TurnMarks;
  /** Non-GET calls in the turn, by operationId. */
  writes: Record<string, number>;
  writeCount: number;
  reads: number;
  /** Smallest gap between two consecutive writes of the turn. */
  minWriteGapMs?: number;
  /** The reporter's own count of progress writes (ForgeOverrides.onTurnWrites). */
  reporterWrites?: number;
}

export interface TurnResult {
  options: TurnOptions;
  samples: TurnSample[];
  violations: number;
}

export async function benchTurns(
  options: TurnOptions,
  progress: (line: string) => void = () => undefined,
): Promise<TurnResult> {
  const reporterWrites: number[] = [];
  const h = await startHarness({
    // The agent's very first action is to print a millisecond timestamp.
    agentCommand: `echo "${AGENT_START_MARK} $(date +%s%3N)"; ${AGENT}`,
    overrides: {
      prefix: `bench${randomBytes(3).toString('hex')}:`,
      minWriteIntervalMs: options.minWriteIntervalMs,
      onTurnWrites: (writes) => reporterWrites.push(writes),
    },
  });
  const samples: TurnSample[] = [];
  // The git server records requests without times: stamp them as they are recorded.
  const gitTimes: number[] = [];
  const push = h.git.requests.push.bind(h.git.requests);
  h.git.requests.push = (...items) => {
    for (const _ of items) gitTimes.push(Date.now());
    return push(...items);
  };
  try {
    const repo = { ...h.repo, defaultBranch: 'main' };
    const total = options.warmup + options.turns;
    for (let i = 0; i < total; i++) {
      const warmup = i < options.warmup;
      // Start from idle: no GitHub traffic for longer than the write spacing.
      await h.quiet(1100);
      const title = `Bench turn ${i + 1}`;
      const issue = h.github.addIssue(REPO, { title, body: 'Add an entry.', user: 'alice' }).number;
      const body = `/forge add changelog entry ${i + 1}`;
      const { id: commentId } = h.github.addComment(REPO, issue, { body, user: 'alice' });
      const payload = issueCommentCreated({
        repo,
        installationId: INSTALLATION,
        issue: { number: issue, title, body: 'Add an entry.' },
        comment: { id: commentId, body },
        sender: { login: 'alice', id: 1005, type: 'User' },
      });
      const delivery = buildDelivery({ event: 'issue_comment', payload, secret: SECRET });
      const firstCall = h.github.calls.length;
      const firstGit = gitTimes.length;
      const reporterBefore = reporterWrites.length;

      const t0 = Date.now();
      const answer = await sendDelivery(h.webhookUrl, delivery);
      const webhookAnswered = Date.now() - t0;
      if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}: ${answer.body}`);
      const task: Task = await h.settled(issue, 1, options.timeoutMs);
      const settled = Date.now() - t0;
      // Anything the worker still sends after its closing note belongs to this turn too.
      await h.quiet(400);

      const calls = h.github.calls.slice(firstCall);
      const writes = calls.filter((c) => c.method !== 'GET' && c.method !== 'HEAD');
      const at = (pred: (c: RecordedCall) => boolean) => {
        const call = calls.find(pred);
        return call ? call.at - t0 : undefined;
      };
      const events = await h.forge.store.events(task.id, { count: 10_000 });
      const started = events.find((e) => e.kind === 'state' && e.text.startsWith('turn 1 started'));
      const mark = events
        .filter((e) => e.kind === 'output')
        .flatMap((e) => e.text.split('\n'))
        .map((line) => new RegExp(`^${AGENT_START_MARK} (\\d{13})$`).exec(line.trim()))
        .find(Boolean);
      const byOperation: Record<string, number> = {};
      for (const w of writes) {
        const key = w.operationId ?? `${w.method} ${w.path}`;
        byOperation[key] = (byOperation[key] ?? 0) + 1;
      }
      const gaps = writes.slice(1).map((w, k) => w.at - writes[k]!.at);
      const sample: TurnSample = {
        issue,
        warmup,
        state: task.turns[0]?.state ?? 'unknown',
        marks: {
          webhookAnswered,
          permissionChecked: at((c) => c.operationId === 'repos/get-collaborator-permission-level'),
          eyesReaction: at((c) => c.operationId === 'reactions/create-for-issue-comment'),
          ...(started ? { turnStarted: Date.parse(started.at) - t0 } : {}),
          ...(gitTimes.length > firstGit ? { cloneStarted: gitTimes[firstGit]! - t0 } : {}),
          ...(mark ? { agentStarted: Number(mark[1]) - t0 } : {}),
          pullOpened: at((c) => c.operationId === 'pulls/create'),
          ...(writes.length ? { lastWrite: writes[writes.length - 1]!.at - t0 } : {}),
          settled,
        },
        writes: byOperation,
        writeCount: writes.length,
        reads: calls.length - writes.length,
        ...(gaps.length ? { minWriteGapMs: Math.min(...gaps) } : {}),
        ...(reporterWrites.length > reporterBefore ? { reporterWrites: reporterWrites.at(-1)! } : {}),
      };
      samples.push(sample);
      progress(
        `  turn ${i + 1}${warmup ? ' (warm-up)' : ''} on #${issue}: ${sample.state}, agent start ` +
          `+${sample.marks.agentStarted ?? '?'} ms, turn started +${sample.marks.turnStarted ?? '?'} ms, ` +
          `${sample.writeCount} writes, last write +${sample.marks.lastWrite ?? '?'} ms`,
      );
    }
    return { options, samples, violations: h.github.violations.length };
  } finally {
    await h.close();
  }
}

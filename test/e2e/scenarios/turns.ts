import assert from 'node:assert/strict';
import { waitFor } from '../../kit/fake-github/wait.js';
import { type ForgeDriver, onChangeRequest, onIssue, type Scenario, type Where } from '../driver.js';

/** Waits until the agent of turn `n` on `at` has printed `working… i` (it is mid-work). */
export async function working(d: ForgeDriver, at: Where, n: number, i = 3): Promise<void> {
  await waitFor(
    async () => {
      const task = await d.find(at);
      if (task?.turns[n - 1]?.state !== 'running') return false;
      return (await d.forge.store.events(task.id)).some(
        (e) => e.turn === n && e.text.includes(`working… ${i}`),
      );
    },
    20_000,
    { what: `turn ${n} on ${at.type} ${at.number} to be working` },
  );
}

/** An issue whose first turn opened a change request; returns the task. */
export async function withChangeRequest(d: ForgeDriver, title: string) {
  const issue = d.newIssue(title);
  await d.ask(onIssue(issue), '/forge first change');
  const task = await d.settled(onIssue(issue));
  assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
  assert.ok(task.changeRequest, 'the first turn opened a change request');
  return { issue, task, cr: task.changeRequest.number };
}

/** How turns of one task run: one at a time, in order, stoppable, visible as a check. */
export const TURN_SCENARIOS: Scenario[] = [
  {
    name: '/forge stop mid-turn pushes a WIP commit and ends the turn cancelled',
    async run(d) {
      const at = onIssue(d.newIssue('Long job'));
      await d.ask(at, '/forge a long job [slow:30]');
      await working(d, at, 1);
      const started = Date.now();
      await d.ask(at, '/forge stop');
      const task = await d.settled(at, 1, 20_000);
      assert.ok(Date.now() - started < 15_000, 'stopped well before the agent would have finished');
      const turn = task.turns[0]!;
      assert.equal(turn.state, 'cancelled');
      assert.equal(turn.endReason, 'stopped');
      assert.ok(turn.commitSha);
      const [commit] = await d.git.log(d.gitRepo, task.branch!, 1);
      assert.equal(commit!.sha, turn.commitSha);
      assert.match(commit!.message, /^WIP: a long job/);
      assert.equal(await d.git.fileAt(d.gitRepo, task.branch!, 'CHANGES.md'), '- a long job [slow:30]\n');
      assert.deepEqual(
        d.checks(turn.commitSha).map((c) => c.state),
        ['cancelled'],
      );
      const cr = d.changeRequests().find((c) => c.branch === task.branch);
      assert.ok(cr, 'the unfinished work is on a change request');
      assert.equal(cr.draft, true, 'as a draft');
    },
  },
  {
    name: '/forge stop on the change request stops its turn; the WIP commit is pushed to its branch',
    async run(d) {
      const { task: first, cr } = await withChangeRequest(d, 'Stop on the change request');
      const at = onChangeRequest(cr);
      await d.ask(at, '/forge more work [slow:30]');
      await working(d, at, 2);
      await d.ask(at, '/forge stop', 'maya');
      const task = await d.settled(at, 2, 20_000);
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'cancelled');
      assert.equal(turn.endReason, 'stopped');
      assert.ok(turn.commitSha);
      const log = await d.git.log(d.gitRepo, first.branch!, 2);
      assert.deepEqual(
        log.map((c) => c.sha),
        [turn.commitSha, first.turns[0]!.commitSha],
        'the WIP commit is on the change request, on top of the first turn',
      );
      assert.match(log[0]!.message, /^WIP: more work/);
      assert.equal(
        await d.git.fileAt(d.gitRepo, first.branch!, 'CHANGES.md'),
        '- first change\n- more work [slow:30]\n',
      );
      assert.deepEqual(
        d.checks(turn.commitSha).map((c) => c.state),
        ['cancelled'],
      );
      assert.match(d.sticky(at, task.id)?.body ?? '', /`\/forge continue`/);
      assert.equal(d.changeRequests().filter((c) => c.branch === first.branch).length, 1, 'still one');
    },
  },
  {
    name: 'a comment while a turn runs is queued, answered with its place in line, and runs next',
    async run(d) {
      const at = onIssue(d.newIssue('Queue me'));
      await d.ask(at, '/forge first, slowly [slow:5]');
      await waitFor(async () => (await d.find(at))?.turns[0]?.state === 'running', 15_000);
      const second = await d.ask(at, '/forge second');
      // Event jobs are triaged concurrently (and forges do not promise webhooks in order), so two
      // comments a few milliseconds apart may swap; people comment seconds apart.
      await waitFor(async () => (await d.find(at))?.turns.length === 2, 15_000, { what: 'turn 2' });
      const third = await d.ask(at, '/forge third');
      await waitFor(
        () => d.comments(at).filter((c) => /Queued as turn \d/.test(c.body)).length === 2,
        20_000,
        {
          what: 'two queued notes',
        },
      );
      const notes = d.comments(at).filter((c) => /Queued as turn/.test(c.body));
      assert.ok(notes.every((c) => c.author === d.botName));
      assert.match(notes[0]!.body, /Queued as turn 2 of this task, behind 1 other turn/);
      assert.match(notes[1]!.body, /Queued as turn 3 of this task, behind 2 other turns/);
      assert.deepEqual(d.reactions(second.commentId), ['eyes'], '👀 on the queued comment');
      assert.deepEqual(d.reactions(third.commentId), ['eyes']);
      const task = await d.settled(at, 3, 60_000);
      assert.deepEqual(
        task.turns.map((t) => t.state),
        ['completed', 'completed', 'completed'],
        'nothing was cancelled',
      );
      const [t1, t2, t3] = task.turns;
      assert.ok(
        Date.parse(t2!.startedAt!) >= Date.parse(t1!.finishedAt!),
        'turn 2 started after turn 1 ended',
      );
      assert.ok(
        Date.parse(t3!.startedAt!) >= Date.parse(t2!.finishedAt!),
        'turn 3 started after turn 2 ended',
      );
      assert.equal(
        await d.git.fileAt(d.gitRepo, task.branch!, 'CHANGES.md'),
        '- first, slowly [slow:5]\n- second\n- third\n',
        'each turn built on the previous one, in order',
      );
    },
  },
  {
    name: 'comments whose webhooks arrive out of order run in the order they were written',
    async run(d) {
      const at = onIssue(d.newIssue('Out of order'));
      await d.ask(at, '/forge first, slowly [slow:5]');
      await waitFor(async () => (await d.find(at))?.turns[0]?.state === 'running', 15_000);
      const now = Date.now();
      await d.ask(at, '/forge written later', undefined, new Date(now));
      await waitFor(async () => (await d.find(at))?.turns.length === 2, 15_000, { what: 'turn 2' });
      // Delivered after it, but written ten seconds before it.
      await d.ask(at, '/forge written earlier', undefined, new Date(now - 10_000));
      await waitFor(
        () => d.comments(at).some((c) => /Queued as turn 3 of this task, behind 1 other turn\./.test(c.body)),
        20_000,
        { what: "turn 3's place in line: right after the running turn" },
      );
      const task = await d.settled(at, 3, 60_000);
      const [, later, earlier] = task.turns;
      assert.equal(later!.instruction, 'written later');
      assert.ok(
        Date.parse(later!.startedAt!) >= Date.parse(earlier!.finishedAt!),
        'the earlier comment ran first',
      );
      assert.equal(
        await d.git.fileAt(d.gitRepo, task.branch!, 'CHANGES.md'),
        '- first, slowly [slow:5]\n- written earlier\n- written later\n',
      );
    },
  },
  {
    name: 'a turn on the change request shows a running check while it works, then success on its commit',
    async run(d) {
      const { task: first, cr } = await withChangeRequest(d, 'Show progress');
      const head = first.turns[0]!.commitSha!;
      await d.ask(onChangeRequest(cr), '/forge second change [slow:5]');
      await waitFor(() => d.checks(head).some((c) => c.name === 'Forge' && c.state === 'running'), 20_000, {
        what: "a running Forge check on the change request's head",
      });
      assert.equal(
        (await d.find(onChangeRequest(cr)))?.turns[1]?.state,
        'running',
        'shown while the turn works',
      );
      const task = await d.settled(onChangeRequest(cr), 2, 30_000);
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'completed', turn.error);
      assert.deepEqual(
        d.checks(turn.commitSha!).map((c) => [c.name, c.state, c.title]),
        [['Forge', 'success', 'Turn 2: completed']],
      );
      const left = d.checks(head).filter((c) => c.state === 'running' || c.state === 'pending');
      assert.deepEqual(left, [], 'the check on the old head was closed when the turn moved on');
    },
  },
  {
    name: 'closing the change request without merging ends the task and keeps the branch; a new comment starts afresh',
    async run(d) {
      const { issue, task, cr } = await withChangeRequest(d, 'Not wanted');
      const res = await d.closeChangeRequest(cr, false);
      assert.equal(res.status, 200);
      await waitFor(async () => (await d.forge.store.get(task.id))?.state === 'closed', 10_000, {
        what: 'the task to close',
      });
      const closed = await d.forge.store.get(task.id);
      assert.ok(closed?.closedAt);
      assert.equal(await d.find(onIssue(issue)), undefined);
      assert.equal(await d.find(onChangeRequest(cr)), undefined);
      assert.equal(
        (await d.git.branches(d.gitRepo))[task.branch!],
        task.turns[0]!.commitSha,
        'the work stays on its branch',
      );
      await d.ask(onIssue(issue), '/forge start over');
      const next = await d.settled(onIssue(issue));
      assert.notEqual(next.id, task.id, 'a new task');
      assert.equal(next.turns[0]!.state, 'completed', next.turns[0]!.error);
      assert.notEqual(next.branch, task.branch, 'on a fresh branch');
      assert.notEqual(next.changeRequest?.number, cr, 'with a new change request');
    },
  },
  {
    name: 'closing the change request while a turn runs stops it, keeps its work on the branch and drops the queue',
    async run(d) {
      const { task: first, cr } = await withChangeRequest(d, 'Closed mid-turn');
      const at = onChangeRequest(cr);
      await d.ask(at, '/forge more work [slow:30]');
      await working(d, at, 2);
      await d.ask(at, '/forge after that');
      await waitFor(async () => (await d.find(at))?.turns.length === 3, 10_000, { what: 'turn 3 queued' });
      const res = await d.closeChangeRequest(cr, false);
      assert.equal(res.status, 200);
      await waitFor(
        async () => {
          const t = await d.forge.store.get(first.id);
          return (
            t?.state === 'closed' &&
            t.turns.every((x) => ['completed', 'failed', 'cancelled'].includes(x.state))
          );
        },
        20_000,
        { what: 'the task to close and its turns to end' },
      );
      await d.quiet();
      const task = (await d.forge.store.get(first.id))!;
      const [, running, queued] = task.turns;
      assert.equal(running!.state, 'cancelled');
      assert.ok(running!.commitSha, 'the running turn kept its work');
      assert.equal(
        (await d.git.branches(d.gitRepo))[first.branch!],
        running!.commitSha,
        'pushed to the branch',
      );
      assert.match((await d.git.log(d.gitRepo, first.branch!, 1))[0]!.message, /^WIP: more work/);
      assert.equal(queued!.state, 'cancelled');
      assert.equal(queued!.endReason, 'task_closed');
      assert.equal(queued!.startedAt, undefined, 'the queued turn never ran');
      assert.equal(
        d.changeRequests().find((c) => c.number === cr)?.state,
        'closed',
        'Forge did not reopen it',
      );
    },
  },
  {
    name: '/forge status shows tokens and cost per turn and in total, the running turn and the queue in order',
    async run(d) {
      const at = onIssue(d.newIssue('Status'));
      await d.ask(at, '/forge first');
      let task = await d.settled(at);
      // The model gateway measures usage; the command agent has none, so the record gets it as the
      // gateway would leave it.
      await d.forge.store.update(task.id, (t) => {
        t.turns[0]!.usage = { inputTokens: 12_000, outputTokens: 800, costUsd: 0.42 };
      });
      await d.ask(at, '/forge slow one [slow:20]');
      await working(d, at, 2, 2);
      await d.ask(at, '/forge then the docs', 'maya');
      // Taken one after the other, as in the queue scenario above.
      await waitFor(async () => (await d.find(at))?.turns.length === 3, 10_000, { what: 'turn 3' });
      await d.ask(at, '/forge and the changelog');
      await waitFor(async () => (await d.find(at))?.turns.length === 4, 10_000);
      await d.ask(at, '/forge status');
      const status = await waitFor(
        () => d.comments(at).find((c) => c.author === d.botName && c.body.startsWith('**Forge task**')),
        // Behind the queued turns' notes and sticky edits, each write spaced ≥ 1 s (1.1 s on GitLab).
        45_000,
        { what: 'the status answer' },
      );
      assert.match(status.body, /is running\./);
      assert.match(
        status.body,
        /\| 1 \| completed \| @alice \| first \| `[0-9a-f]{7}` \| 12k \/ 800 \| \$0\.42 \|/,
      );
      assert.match(status.body, /\| 2 \| running \| @alice \| slow one \[slow:20\] \| — \| — \| — \|/);
      assert.match(status.body, /\*\*So far:\*\* 4 turns · 13k tokens \(12k in, 800 out\) · \$0\.42/);
      assert.match(status.body, /\*\*Running:\*\* turn 2, asked by @alice\./);
      assert.match(
        status.body,
        /\*\*Waiting in line \(2\), in the order they will run:\*\*\n1\. Turn 3, asked by @maya: then the docs\n2\. Turn 4, asked by @alice: and the changelog/,
      );
      await d.ask(at, '/forge stop');
      task = await d.settled(at, 4, 120_000);
      assert.deepEqual(
        task.turns.map((t) => t.state),
        ['completed', 'cancelled', 'completed', 'completed'],
      );
    },
  },
];

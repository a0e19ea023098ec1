import assert from 'node:assert/strict';
import { waitFor } from '../../kit/fake-github/wait.js';
import { type ForgeDriver, isForgeReply, onIssue, type Scenario, type Where } from '../driver.js';
import { working } from './turns.js';

const forgeBranches = async (d: ForgeDriver, issue: number) =>
  Object.keys(await d.git.branches(d.gitRepo)).filter((b) => b.startsWith(`forge/${issue}-`));

/** Waits for a plain reply by Forge (not the sticky) on `at` matching `pattern`. */
const replyMatching = (d: ForgeDriver, at: Where, pattern: RegExp) =>
  waitFor(() => d.comments(at).find((c) => isForgeReply(d, c) && pattern.test(c.body)), 15_000, {
    what: `a reply matching ${pattern} on ${at.type} ${at.number}`,
  });

/** Conversation commands end to end: `/forge plan`, `/forge approve` and `/forge continue`. */
export const CONVERSATION_SCENARIOS: Scenario[] = [
  {
    name: 'plan posts the plan and creates nothing; approve runs it with the plan and the edits',
    async run(d) {
      const issue = d.newIssue('Add a changelog');
      const at = onIssue(issue);
      await d.ask(at, '/forge plan add a changelog entry [plan] [prompt]');
      const planned = await d.settled(at);
      const planTurn = planned.turns[0]!;
      assert.equal(planTurn.state, 'completed', planTurn.error);
      assert.equal(planTurn.mode, 'plan');
      assert.match(planTurn.summary ?? '', /PLAN-7f3a/);
      assert.equal(planTurn.commitSha, undefined);
      assert.equal(planTurn.discardedPaths, undefined);
      assert.equal(planned.pendingPlan, 1);
      assert.equal(planned.state, 'awaiting_instruction');
      assert.equal(planned.changeRequest, undefined, 'no change request');
      assert.equal(planned.branch, undefined, 'no branch chosen');
      assert.deepEqual(await forgeBranches(d, issue), [], 'no branch pushed');
      assert.equal(d.changeRequests().length, 0);
      const sticky = d.sticky(at, planned.id);
      assert.ok(sticky, 'the sticky comment exists');
      assert.match(sticky.body, /📝 Plan ready/);
      assert.match(sticky.body, /### Plan\n/);
      assert.match(sticky.body, /PLAN-7f3a: 1\. Create CHANGES\.md/);
      assert.match(sticky.body, /Question: should entries be dated\?/);
      assert.match(sticky.body, /`\/forge approve`/);

      await d.ask(at, '/forge approve, and date the entries\nUse ISO dates.');
      const task = await d.settled(at, 2);
      assert.equal(task.id, planned.id, 'same task');
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'completed', turn.error);
      assert.equal(turn.mode, 'approve');
      assert.equal(turn.instruction, planTurn.instruction, "the plan's instruction");
      assert.deepEqual(turn.approvedPlan, {
        turn: 1,
        plan: planTurn.summary,
        edits: 'and date the entries\nUse ISO dates.',
      });
      assert.equal(task.pendingPlan, undefined, 'approving uses the plan up');
      const opened = d.changeRequests().filter((c) => c.branch === task.branch);
      assert.equal(opened.length, 1, 'the approved turn opens the change request');
      assert.equal(task.changeRequest?.number, opened[0]!.number);
      assert.equal(
        await d.git.fileAt(d.gitRepo, task.branch!, 'CHANGES.md'),
        '- add a changelog entry [plan] [prompt]\n',
      );
      const prompt = await d.git.fileAt(d.gitRepo, task.branch!, 'prompt-dump.txt');
      assert.ok(prompt, 'the agent wrote out its prompt');
      assert.match(prompt, /## The approved plan \(written by the agent in turn 1\)/);
      assert.match(prompt, /was written by the agent in an earlier turn/);
      assert.ok(prompt.includes(planTurn.summary!.trim()), 'the plan is in the prompt');
      assert.match(prompt, /## Changes to the plan[\s\S]*and date the entries\nUse ISO dates\./);
      assert.doesNotMatch(prompt, /## Plan only/, 'the approved turn is not a plan turn');
      const done = d.sticky(at, task.id);
      assert.match(done!.body, /✅ Done/);
      assert.match(done!.body, /runs the plan of turn 1, with changes/);

      // The plan is used up: a second approve is answered, not run.
      await d.ask(at, '/forge approve');
      await replyMatching(d, at, /no plan waiting for approval/);
      assert.equal((await d.find(at))?.turns.length, 2);
    },
  },
  {
    name: 'a plan turn whose agent changes files anyway commits nothing and says what it left out',
    async run(d) {
      const issue = d.newIssue('Sneaky');
      const at = onIssue(issue);
      await d.ask(at, '/forge plan tidy the readme [prompt]');
      const task = await d.settled(at);
      const turn = task.turns[0]!;
      assert.equal(turn.state, 'completed', turn.error);
      assert.equal(turn.commitSha, undefined);
      assert.deepEqual([...(turn.discardedPaths ?? [])].sort(), ['CHANGES.md', 'prompt-dump.txt']);
      assert.deepEqual(await forgeBranches(d, issue), [], 'nothing pushed');
      assert.equal(task.changeRequest, undefined);
      const sticky = d.sticky(at, task.id);
      assert.match(
        sticky!.body,
        /\*\*Left out:\*\* the agent changed files although a plan turn changes nothing/,
      );
      assert.match(sticky!.body, /`CHANGES\.md`/);
    },
  },
  {
    name: '/forge continue after /forge stop runs a new turn that builds on the WIP commit',
    async run(d) {
      const at = onIssue(d.newIssue('Long job'));
      await d.ask(at, '/forge a long job [slow:30] [prompt]');
      await working(d, at, 1);
      await d.ask(at, '/forge stop');
      const stopped = await d.settled(at, 1, 20_000);
      const first = stopped.turns[0]!;
      assert.equal(first.state, 'cancelled');
      assert.ok(first.commitSha, 'the WIP commit');
      assert.equal((await d.git.branches(d.gitRepo))[stopped.branch!], first.commitSha, 'pushed');
      assert.match(d.sticky(at, stopped.id)!.body, /`\/forge continue`/);

      const started = Date.now();
      await d.ask(at, '/forge continue');
      const task = await d.settled(at, 2, 20_000);
      assert.ok(Date.now() - started < 15_000, 'the continuation does not redo the slow part');
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'completed', turn.error);
      assert.equal(turn.mode, 'continue');
      assert.equal(turn.instruction, first.instruction);
      assert.deepEqual(turn.continues, {
        turn: 1,
        state: 'cancelled',
        endReason: 'stopped',
        commitSha: first.commitSha,
      });
      const log = await d.git.log(d.gitRepo, task.branch!, 2);
      assert.deepEqual(
        log.map((c) => c.sha),
        [turn.commitSha, first.commitSha],
        'the new commit sits on the WIP commit',
      );
      assert.doesNotMatch(log[0]!.message, /^WIP/);
      assert.equal(
        await d.git.fileAt(d.gitRepo, task.branch!, 'CHANGES.md'),
        '- a long job [slow:30] [prompt]\n- finished: a long job [slow:30] [prompt]\n',
      );
      const prompt = await d.git.fileAt(d.gitRepo, task.branch!, 'prompt-dump.txt');
      assert.match(prompt ?? '', /## Continue the interrupted turn/);
      assert.match(prompt ?? '', /turn 1\) was stopped before it finished: it was interrupted/);
      assert.ok(
        prompt?.includes(`already on the branch (commit ${first.commitSha!.slice(0, 7)}`),
        'the prompt names the WIP commit',
      );
      assert.equal(d.changeRequests().filter((c) => c.branch === task.branch).length, 1, 'still one');
    },
  },
  {
    name: 'approve without a pending plan gets a one-line reply and starts nothing',
    async run(d) {
      const at = onIssue(d.newIssue('No plan'));
      await d.ask(at, '/forge approve');
      const reply = await replyMatching(d, at, /no plan waiting for approval/);
      assert.match(reply.body, /`\/forge plan <instruction>` first/);
      assert.doesNotMatch(reply.body, /\n/);
      assert.equal(await d.find(at), undefined, 'no task was created');
    },
  },
  {
    name: 'continue with nothing to continue gets a one-line reply',
    async run(d) {
      const at = onIssue(d.newIssue('Nothing to continue'));
      await d.ask(at, '/forge continue');
      const none = await replyMatching(d, at, /nothing to continue here/);
      assert.doesNotMatch(none.body, /\n/);
      assert.equal(await d.find(at), undefined, 'no task was created');

      await d.ask(at, '/forge do it');
      await d.settled(at);
      await d.ask(at, '/forge continue');
      await replyMatching(d, at, /The last turn \(turn 1\) completed, so there is nothing to continue/);
      await d.quiet();
      assert.equal((await d.find(at))?.turns.length, 1);
    },
  },
];

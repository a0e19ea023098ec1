import assert from 'node:assert/strict';
import { type ForgeDriver, onChangeRequest, type Scenario } from '../driver.js';
import { withChangeRequest, working } from './turns.js';

/** A task with a change request from a first turn, then a slow follow-up; `push` runs while its agent works. */
async function followUpWhileHumanPushes(
  d: ForgeDriver,
  title: string,
  push: (branch: string) => Promise<string>,
) {
  const { task: first, cr } = await withChangeRequest(d, title);
  const branch = first.branch!;
  const at = onChangeRequest(cr);
  await d.ask(at, '/forge second change [slow:4]');
  await working(d, at, 2, 2);
  const human = await push(branch);
  const task = await d.settled(at, 2, 30_000);
  const events = await d.forge.store.events(task.id, { count: 100_000 });
  return { task, cr, branch, human, first: first.turns[0]!, events };
}

const asRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Someone pushes to the change request's branch while a turn runs: Forge rebases, never forces, never loses work. */
export const BRANCH_MOVED_SCENARIOS: Scenario[] = [
  {
    name: 'a non-conflicting push: our commit is rebased onto it and pushed, history stays linear',
    async run(d) {
      const { task, branch, human, first, events } = await followUpWhileHumanPushes(
        d,
        'Moved, no conflict',
        (b) => d.git.pushAs(d.gitRepo, b, { 'HUMAN.md': 'by a human\n' }, 'Human change'),
      );
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'completed', turn.error);
      assert.ok(turn.commitSha);
      const log = await d.git.log(d.gitRepo, branch, 3);
      assert.deepEqual(
        log.map((c) => c.sha),
        [turn.commitSha, human, first.commitSha],
        'the human commit, then Forge’s',
      );
      assert.deepEqual(log[0]!.parents, [human]);
      assert.equal(log[0]!.author.name, 'forge[bot]');
      assert.match(log[0]!.message, /Co-authored-by: alice </);
      assert.equal((await d.git.branches(d.gitRepo))[branch], turn.commitSha);
      assert.equal(await d.git.fileAt(d.gitRepo, branch, 'HUMAN.md'), 'by a human\n');
      assert.equal(
        await d.git.fileAt(d.gitRepo, branch, 'CHANGES.md'),
        '- first change\n- second change [slow:4]\n',
      );
      assert.ok(
        events.some((e) => e.turn === 2 && e.kind === 'state' && /during the turn: rebased/.test(e.text)),
        'the event log says a rebase happened',
      );
      assert.equal(`${branch}-turn-2` in (await d.git.branches(d.gitRepo)), false, 'no rescue branch');
      assert.deepEqual(
        d.checks(turn.commitSha).map((c) => c.state),
        ['success'],
      );
    },
  },
  {
    name: 'a conflicting push: nothing is pushed to the branch, the work is on a rescue branch, the error explains',
    async run(d) {
      const { task, cr, branch, human, first, events } = await followUpWhileHumanPushes(
        d,
        'Moved, conflict',
        (b) => d.git.pushAs(d.gitRepo, b, { 'CHANGES.md': '- first change\n- a human line\n' }, 'Human edit'),
      );
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'failed');
      assert.equal(turn.endReason, 'push_rejected');
      const rescue = `${branch}-turn-2`;
      assert.match(turn.error ?? '', /conflict with this turn's changes in `CHANGES\.md`/);
      assert.match(turn.error ?? '', new RegExp(`kept on branch \`${rescue}\``));
      assert.match(turn.error ?? '', /To continue, merge/);

      const branches = await d.git.branches(d.gitRepo);
      assert.equal(branches[branch], human, 'the branch is exactly as the human left it');
      assert.ok(branches[rescue], 'the work is on the rescue branch');
      const [kept] = await d.git.log(d.gitRepo, rescue, 1);
      assert.deepEqual(
        kept!.parents,
        [first.commitSha],
        'the rescue commit is the turn as the agent made it',
      );
      assert.equal(
        await d.git.fileAt(d.gitRepo, rescue, 'CHANGES.md'),
        '- first change\n- second change [slow:4]\n',
      );
      assert.ok(events.some((e) => e.turn === 2 && /rebasing onto it conflicts in CHANGES\.md/.test(e.text)));
      const sticky = d.sticky(onChangeRequest(cr), task.id);
      assert.ok(sticky, 'the sticky comment is on the change request');
      assert.match(sticky.body, /CHANGES\.md/);
      assert.match(sticky.body, new RegExp(asRegExp(rescue)));
    },
  },
];

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, REPO, REPO_REF, useHarness } from './harness.js';

const GIT_REPO = `${REPO}.git`;

/** Someone pushes to the PR branch while a turn runs: Forge rebases, never forces, never loses work. */
describe('the branch moves during a turn', () => {
  let h: Harness;

  useHarness((started) => {
    h = started;
  });

  /** A task with a PR from a first turn, then a slow follow-up turn; `push` runs while its agent works. */
  async function followUpWhileHumanPushes(title: string, push: (branch: string) => Promise<string>) {
    const issue = h.github.addIssue(REPO, { title, body: 'Details.', user: 'alice' }).number;
    await h.comment({ number: issue, body: '/forge first change' });
    const first = await h.settled(issue);
    assert.equal(first.turns[0]!.state, 'completed', first.turns[0]!.error);
    const pr = first.changeRequest!.number;
    const branch = first.branch!;
    await h.comment({ number: pr, body: '/forge second change [slow:4]', isPullRequest: true });
    await waitFor(async () => {
      const task = await h.forge.store.findByNumber(REPO_REF, pr);
      if (task?.turns[1]?.state !== 'running') return false;
      return (await h.forge.store.events(task.id)).some((e) => e.turn === 2 && e.text.includes('working… 2'));
    }, 20_000);
    const human = await push(branch);
    const task = await h.settled(pr, 2, 30_000);
    const events = await h.forge.store.events(task.id, { count: 100_000 });
    return { task, pr, branch, human, first: first.turns[0]!, events };
  }

  test('a non-conflicting push: our commit is rebased onto it and pushed, history stays linear', async () => {
    const { task, branch, human, first, events } = await followUpWhileHumanPushes('Moved, no conflict', (b) =>
      h.git.pushAs(GIT_REPO, b, { 'HUMAN.md': 'by a human\n' }, 'Human change'),
    );
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.ok(turn.commitSha);
    const log = await h.git.log(GIT_REPO, branch, 3);
    assert.deepEqual(
      log.map((c) => c.sha),
      [turn.commitSha, human, first.commitSha],
      'the human commit, then Forge’s',
    );
    assert.deepEqual(log[0]!.parents, [human]);
    assert.equal(log[0]!.author.name, 'forge[bot]');
    assert.match(log[0]!.message, /Co-authored-by: alice </);
    assert.equal((await h.git.branches(GIT_REPO))[branch], turn.commitSha);
    assert.equal(await h.git.fileAt(GIT_REPO, branch, 'HUMAN.md'), 'by a human\n');
    assert.equal(
      await h.git.fileAt(GIT_REPO, branch, 'CHANGES.md'),
      '- first change\n- second change [slow:4]\n',
    );
    assert.ok(
      events.some((e) => e.turn === 2 && e.kind === 'state' && /during the turn: rebased/.test(e.text)),
      'the event log says a rebase happened',
    );
    assert.equal(`${branch}-turn-2` in (await h.git.branches(GIT_REPO)), false, 'no rescue branch');
    const check = h.github.checkRuns(REPO).find((c) => c.headSha === turn.commitSha);
    assert.equal(check?.conclusion, 'success');
  });

  test('a conflicting push: nothing is pushed to the branch, the work is on a rescue branch, the error explains', async () => {
    const { task, pr, branch, human, first, events } = await followUpWhileHumanPushes(
      'Moved, conflict',
      (b) => h.git.pushAs(GIT_REPO, b, { 'CHANGES.md': '- first change\n- a human line\n' }, 'Human edit'),
    );
    const turn = task.turns[1]!;
    assert.equal(turn.state, 'failed');
    assert.equal(turn.endReason, 'push_rejected');
    const rescue = `${branch}-turn-2`;
    assert.match(turn.error ?? '', /conflict with this turn's changes in `CHANGES\.md`/);
    assert.match(turn.error ?? '', new RegExp(`kept on branch \`${rescue}\``));
    assert.match(turn.error ?? '', /To continue, merge/);

    const branches = await h.git.branches(GIT_REPO);
    assert.equal(branches[branch], human, 'the PR branch is exactly as the human left it');
    assert.ok(branches[rescue], 'the work is on the rescue branch');
    const [kept] = await h.git.log(GIT_REPO, rescue, 1);
    assert.deepEqual(kept!.parents, [first.commitSha], 'the rescue commit is the turn as the agent made it');
    assert.equal(
      await h.git.fileAt(GIT_REPO, rescue, 'CHANGES.md'),
      '- first change\n- second change [slow:4]\n',
    );
    assert.ok(events.some((e) => e.turn === 2 && /rebasing onto it conflicts in CHANGES\.md/.test(e.text)));
    const sticky = h.github.comments(REPO, pr).find((c) => c.body.includes(`forge:task:${task.id}`));
    assert.ok(sticky, 'the sticky comment is on the PR');
    assert.match(sticky.body, /CHANGES\.md/);
    assert.match(sticky.body, new RegExp(rescue.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  });
});

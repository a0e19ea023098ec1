import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HELP_HEADING } from '../../src/commands/parse.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, REPO, REPO_REF, useHarness } from './harness.js';

/** The webhook side end to end: who may trigger, duplicates, signatures, commands and refusals. */
describe('webhook intake, authorization and commands (GitHub)', () => {
  let h: Harness;

  useHarness((started) => {
    h = started;
  });

  test('a user without write access gets one short reply and nothing runs', async () => {
    const issue = h.newIssue('Reader');
    await h.quiet();
    const before = h.github.writes().length;
    await h.comment({ number: issue, body: '/forge do something', user: 'rita' });
    await waitFor(() => h.github.comments(REPO, issue).some((c) => c.user === 'forge-test[bot]'), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const replies = h.github.comments(REPO, issue).filter((c) => c.user === 'forge-test[bot]');
    assert.equal(replies.length, 1);
    assert.match(replies[0]!.body, /@rita/);
    assert.match(replies[0]!.body, /write/);
    // Minting an installation token is a POST too, but changes nothing on the repository.
    const writes = h.github
      .writes()
      .slice(before)
      .filter((w) => w.operationId !== 'apps/create-installation-access-token');
    assert.deepEqual(
      writes.map((w) => w.operationId),
      ['issues/create-comment'],
      'no reaction, no check, no PR',
    );
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined);
  });

  test('bots are ignored silently, including Forge itself', async () => {
    const issue = h.newIssue('Bots');
    await h.quiet();
    const callsBefore = h.github.calls.length;
    const a = await h.comment({
      number: issue,
      body: '/forge do it',
      user: 'dependabot[bot]',
      userType: 'Bot',
    });
    const b = await h.comment({
      number: issue,
      body: '/forge loop forever',
      user: 'forge-test[bot]',
      userType: 'Bot',
    });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(h.github.calls.length, callsBefore, 'not a single API call');
  });

  test('a bad signature is rejected and nothing is queued', async () => {
    const issue = h.newIssue('Forged');
    await h.quiet();
    const callsBefore = h.github.calls.length;
    const res = await h.deliver(
      'issue_comment',
      (await import('../kit/webhooks.js')).issueCommentCreated({
        repo: { owner: 'acme', name: 'widgets' },
        installationId: 77,
        issue: { number: issue },
        comment: { id: 999_001, body: '/forge evil' },
        sender: { login: 'alice', id: 1, type: 'User' },
      }),
      undefined,
      'not-the-secret',
    );
    assert.ok(res.status === 400 || res.status === 401, `status ${res.status}`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.github.calls.length, callsBefore);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined);
  });

  test('the same delivery twice starts one turn', async () => {
    const issue = h.newIssue('Twice');
    const { id: commentId } = h.github.addComment(REPO, issue, { body: '/forge only once', user: 'alice' });
    const { issueCommentCreated } = await import('../kit/webhooks.js');
    const payload = issueCommentCreated({
      repo: { owner: 'acme', name: 'widgets', cloneUrl: h.repo.cloneUrl, id: h.repo.id },
      installationId: 77,
      issue: { number: issue, title: 'Twice' },
      comment: { id: commentId, body: '/forge only once' },
      sender: { login: 'alice', id: 5, type: 'User' },
    });
    const deliveryId = '3f1a4b2c-0000-4000-8000-00000000abcd';
    const results = await Promise.all([
      h.deliver('issue_comment', payload, deliveryId),
      h.deliver('issue_comment', payload, deliveryId),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200],
    );
    // A redelivery after the fact, with a new delivery id but the same comment, is also a duplicate.
    await h.deliver('issue_comment', payload);
    const task = await h.settled(issue);
    await new Promise((r) => setTimeout(r, 500));
    const again = await h.settled(issue);
    assert.equal(again.turns.length, 1);
    assert.equal(task.turns[0]!.state, 'completed');
    assert.equal(h.github.reactions(REPO, commentId).length, 1);
  });

  test('fork PRs are refused with a clear reply', async () => {
    const pr = h.github.addPull(REPO, {
      title: 'From a fork',
      body: '',
      user: 'alice',
      head: 'feature',
      base: 'main',
    });
    h.github.setPullFork(REPO, pr.number, 'mallory/widgets');
    await h.comment({ number: pr.number, body: '/forge fix the tests', isPullRequest: true });
    await waitFor(() => h.github.comments(REPO, pr.number).some((c) => /forks/.test(c.body)), 20_000);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, pr.number), undefined);
  });

  test('help, status and commands with extra text get the right answers', async () => {
    const issue = h.newIssue('Commands');
    await h.comment({ number: issue, body: '/forge help' });
    await h.comment({ number: issue, body: '/forge status' });
    await h.comment({ number: issue, body: '/forge stop now please' });
    await h.comment({ number: issue, body: '/forge --agent gpt9 do it' });
    const bot = () => h.github.comments(REPO, issue).filter((c) => c.user === 'forge-test[bot]');
    // Eight writes (a 👀 and a reply each), a second apart: GitHub's pace for writes.
    await waitFor(() => bot().length === 4, 30_000);
    const bodies = bot().map((c) => c.body);
    // Only the help reply opens with the help heading and lists plan and address-reviews.
    const help = bodies.filter((b) => b.startsWith(`${HELP_HEADING}\n`));
    assert.equal(help.length, 1, bodies.join('\n---\n'));
    assert.ok(help[0]!.includes('`/forge plan <instruction>`'), help[0]);
    assert.ok(help[0]!.includes('`/forge address-reviews [notes]`'), help[0]);
    assert.ok(help[0]!.includes('`/forge stop`'), help[0]);
    assert.ok(
      bodies.some((b) => /^There is no Forge task here yet/.test(b)),
      'the status reply',
    );
    assert.ok(
      bodies.some((b) => /^`\/forge stop` takes no text/.test(b)),
      'stop with extra text is answered, not run',
    );
    const agent = bodies.find((b) => b.startsWith('Unknown agent `gpt9`'));
    assert.match(agent ?? '', /Allowed agents: `command`\./, 'lists the allowed agents');
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'nothing ran');
  });

  test('`/forge` alone, a mistyped command and an unknown option get the help, and nothing runs', async () => {
    const issue = h.newIssue('Typos');
    await h.comment({ number: issue, body: '/forge' });
    await h.comment({ number: issue, body: '/forge stauts' });
    await h.comment({ number: issue, body: '/forge --fast fix it' });
    const bot = () => h.github.comments(REPO, issue).filter((c) => c.user === 'forge-test[bot]');
    await waitFor(() => bot().length === 3, 30_000, { what: 'three replies' });
    const [alone, typo, flag] = bot().map((c) => c.body);
    assert.ok(alone!.startsWith(`${HELP_HEADING}\n`), alone);
    assert.match(typo!, /^`stauts` is not a Forge command — did you mean `\/forge status`\?/);
    assert.ok(typo!.includes(`\n\n${HELP_HEADING}\n`), 'the help follows in the same reply');
    assert.match(flag!, /^Unknown option `--fast`/);
    assert.ok(flag!.includes(`\n\n${HELP_HEADING}\n`), 'the help follows in the same reply');
    await h.quiet();
    assert.equal(bot().length, 3, 'one reply each');
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'no turn, no task');
  });

  test('an edited comment never triggers', async () => {
    const issue = h.newIssue('Edited');
    const { examplePayload } = await import('../kit/webhooks.js');
    const payload = examplePayload('issue_comment', 'edited');
    payload.comment.body = '/forge do it';
    payload.repository.full_name = REPO;
    payload.installation = { id: 77, node_id: 'x' };
    payload.issue.number = issue;
    await h.quiet();
    const callsBefore = h.github.calls.length;
    const res = await h.deliver('issue_comment', payload);
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.github.calls.length, callsBefore);
  });
});

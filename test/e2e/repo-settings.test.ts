import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { REPO_INSTRUCTIONS_HEADING, TEST_COMMAND_HEADING } from '../../src/tasks/prompt.js';
import { waitFor } from '../kit/fake-github/wait.js';
import { type Harness, REPO, REPO_REF, startHarness } from './harness.js';

/** `.github/forge.yml` end to end: read from the default branch only, applied, and reported when wrong. */
describe('per-repository settings (.github/forge.yml)', () => {
  let h: Harness;
  /** Commits (or, with null, deletes) the settings file on `branch` (default: main). */
  const settingsFile = (text: string | null, branch = 'main') =>
    h.git.pushAs(`${REPO}.git`, branch, { '.github/forge.yml': text }, 'Forge settings');

  before(async () => {
    h = await startHarness({ env: { FORGE_REPO_TRIGGER_LABELS: 'ai' } });
  });
  after(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await settingsFile(null);
    h.github.assertNoViolations();
  });

  test('settings on the default branch take effect: draft PR, branch prefix, setup, testCommand and instructions', async () => {
    await settingsFile(
      [
        'pullRequests: draft',
        'branchPrefix: ai/',
        'setup:',
        '  - echo prepared > setup-ran.txt',
        '  - echo "setup says hello"',
        'testCommand: npm run check-7c1',
        'instructions: |',
        '  Write British English. REPO-INSTR-91d',
        'limits:',
        '  turnTimeout: 5m',
      ].join('\n'),
    );
    const issue = h.newIssue('Settings apply');
    await h.comment({ number: issue, body: '/forge [prompt] add an entry' });
    const task = await h.settled(issue);
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'completed', turn.error);
    assert.equal(task.branch, `ai/${issue}-settings-apply`);
    const pull = h.github.pulls(REPO).find((p) => p.head === task.branch);
    assert.ok(pull, 'a pull request was opened');
    assert.equal(pull.draft, true, 'pullRequests: draft opens a draft');

    const prompt = (await h.git.fileAt(`${REPO}.git`, task.branch!, 'prompt-dump.txt')) ?? '';
    assert.ok(prompt.includes(TEST_COMMAND_HEADING), prompt);
    assert.match(prompt, /npm run check-7c1/);
    assert.ok(prompt.includes(REPO_INSTRUCTIONS_HEADING), prompt);
    assert.match(prompt, /REPO-INSTR-91d/);
    assert.ok(
      prompt.indexOf('REPO-INSTR-91d') > prompt.indexOf('add an entry'),
      "the repository's instructions come after the user's instruction",
    );
    assert.equal(
      await h.git.fileAt(`${REPO}.git`, task.branch!, 'setup-ran.txt'),
      'prepared\n',
      'the setup command ran in the checkout before the agent, and its result was committed',
    );
    const events = await h.forge.store.events(task.id, { count: 10_000 });
    assert.ok(
      events.some((e) => e.text.includes('setup says hello')),
      'setup output is in the event log',
    );
    assert.ok(events.some((e) => e.text.includes('setup 1/2')));
    const reads = h.github.calls.filter((c) => c.operationId === 'repos/get-content');
    assert.ok(reads.length >= 2, 'triage and the turn each read the settings');
    assert.ok(reads.every((c) => c.query.ref === 'main' && c.params.path === '.github/forge.yml'));
  });

  test('limits within the operator bounds apply (idle timeout keeps the work); one above is refused by name', async () => {
    await settingsFile(
      ['limits:', '  idleTimeout: 2s', '  maxAgentSteps: 100000', '  maxTaskTokens: 99000000000'].join('\n'),
    );
    const issue = h.newIssue('Idle limit');
    const started = Date.now();
    await h.comment({ number: issue, body: '/forge go quiet [quiet:30]' });
    const task = await h.settled(issue, 1, 30_000);
    assert.ok(Date.now() - started < 25_000, 'stopped by the repository idle timeout, long before 30 s');
    const turn = task.turns[0]!;
    assert.equal(turn.state, 'cancelled');
    assert.equal(turn.endReason, 'idle_timeout', 'told apart from the turn time limit');
    assert.match(turn.error ?? '', /no output for 2 seconds/);
    assert.ok(turn.commitSha, 'the work so far is kept');
    const [commit] = await h.git.log(`${REPO}.git`, task.branch!, 1);
    assert.match(commit!.message, /^WIP: go quiet/);
    const problem = await waitFor(
      () => h.github.comments(REPO, issue).find((c) => c.body.includes('`limits.maxAgentSteps`')),
      10_000,
    );
    assert.match(
      problem.body,
      /100000 steps is above this Forge's bound of 200 steps \(FORGE_MAX_AGENT_STEPS\)/,
    );
    assert.match(
      problem.body,
      /`limits\.maxTaskTokens`: 99,000,000,000 tokens is above this Forge's bound of 50,000,000 tokens \(FORGE_MAX_TASK_TOKENS\)/,
    );
  });

  test('a .github/forge.yml pushed only to a PR head is ignored', async () => {
    const issue = h.newIssue('Head settings');
    await h.comment({ number: issue, body: '/forge first change' });
    const first = await h.settled(issue);
    assert.equal(first.turns[0]!.state, 'completed', first.turns[0]!.error);
    const pr = first.changeRequest!.number;
    await settingsFile(
      [
        'allowedUsers: [nobody]',
        'setup: [echo pwned > pwned.txt]',
        'instructions: HEAD-ONLY-3b2',
        'branchPrefix: evil/',
      ].join('\n'),
      first.branch!,
    );
    await h.comment({ number: pr, body: '/forge [prompt] second change', isPullRequest: true });
    const task = await h.settled(pr, 2);
    const second = task.turns[1]!;
    assert.equal(second.state, 'completed', second.error);
    const prompt = (await h.git.fileAt(`${REPO}.git`, task.branch!, 'prompt-dump.txt')) ?? '';
    assert.match(prompt, /second change/);
    assert.doesNotMatch(prompt, /HEAD-ONLY-3b2/);
    assert.equal(await h.git.fileAt(`${REPO}.git`, task.branch!, 'pwned.txt'), undefined);
    const reads = h.github.calls.filter((c) => c.operationId === 'repos/get-content');
    assert.ok(
      reads.every((c) => c.query.ref === 'main'),
      'settings are only ever read from main',
    );
  });

  test('an unknown key or a bad value: one comment naming it, and the turn runs with the valid keys', async () => {
    await settingsFile('pullRequests: draft\ncolour: blue\nagent: gpt-9000\n');
    const issue = h.newIssue('Unknown key');
    await h.comment({ number: issue, body: '/forge add an entry' });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.equal(task.turns[0]!.options.agent, 'command', 'the bad agent is dropped for the default');
    const pull = h.github.pulls(REPO).find((p) => p.head === task.branch);
    assert.equal(pull?.draft, true, 'the valid key still applies');
    await h.quiet();
    const notes = h.github.comments(REPO, issue).filter((c) => c.body.includes('forge:repo-settings:'));
    assert.equal(notes.length, 1, 'one comment for the turn');
    assert.match(notes[0]!.body, /`\.github\/forge\.yml`: unknown key `colour`/);
    assert.match(notes[0]!.body, /`agent`: expected one of the agents this Forge allows: `command`/);
    assert.match(notes[0]!.body, /The turn runs anyway/);
  });

  test('invalid YAML: one clear comment, and the turn runs with the defaults', async () => {
    await settingsFile('pullRequests: [draft\nbranchPrefix: ai/\n');
    const issue = h.newIssue('Broken yaml');
    await h.comment({ number: issue, body: '/forge add an entry' });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.equal(task.branch, `forge/${issue}-broken-yaml`);
    const pull = h.github.pulls(REPO).find((p) => p.head === task.branch);
    assert.equal(pull?.draft, false);
    await h.quiet();
    const notes = h.github.comments(REPO, issue).filter((c) => c.body.includes('forge:repo-settings:'));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!.body, /`\.github\/forge\.yml` is not valid YAML/);
  });

  test('allowedUsers refuses a writer not on the list with one reply; a listed writer runs', async () => {
    await settingsFile('allowedUsers:\n  - maya\n');
    const issue = h.newIssue('Only maya');
    await h.comment({ number: issue, body: '/forge do it', user: 'alice' });
    await waitFor(() => h.github.comments(REPO, issue).some((c) => c.body.includes('allowedUsers')), 15_000, {
      what: 'the refusal',
    });
    await h.quiet();
    const replies = h.github.comments(REPO, issue).filter((c) => c.user !== 'alice');
    assert.equal(replies.length, 1, 'exactly one reply');
    assert.match(replies[0]!.body, /@alice .*`allowedUsers`/);
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'no task started');

    await h.comment({ number: issue, body: '/forge do it', user: 'maya' });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.equal(task.turns[0]!.requestedBy, 'maya');
  });

  test('allowedTeams: a writer in the team runs; a writer outside it is refused naming the team', async () => {
    h.github.addTeam('acme', 'reviewers', ['maya', 'rita', { login: 'alice', state: 'pending' }]);
    await settingsFile('allowedTeams: [acme/reviewers]\n');
    const issue = h.newIssue('Reviewers only');
    await h.comment({ number: issue, body: '/forge do it', user: 'alice' });
    await h.comment({ number: issue, body: '/forge do it too', user: 'rita' });
    const replies = () => h.github.comments(REPO, issue).filter((c) => c.user === 'forge-test[bot]');
    await waitFor(() => replies().length === 2, 20_000, { what: 'two refusals' });
    const alice = replies().find((c) => c.body.startsWith('@alice'))?.body;
    const rita = replies().find((c) => c.body.startsWith('@rita'))?.body;
    assert.match(
      alice!,
      /^@alice This repository's `\.github\/forge\.yml` limits who may ask Forge, and you are not a member of `acme\/reviewers` \(`allowedTeams`\)\.$/,
      'a pending invitation is no membership',
    );
    assert.match(
      rita!,
      /^@rita Forge only takes instructions from people with write access/,
      'the team never widens',
    );
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'no task started');

    await h.comment({ number: issue, body: '/forge do it', user: 'maya' });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.equal(task.turns[0]!.requestedBy, 'maya');
    const checks = h.github.calls.filter((c) => c.operationId === 'teams/get-membership-for-user-in-org');
    assert.deepEqual(
      checks.map((c) => c.params.username).sort(),
      ['alice', 'maya'],
      'asked for writers only, once per trigger',
    );
  });

  test('a broken access list fails closed: every writer gets one reply naming the problem, and nothing runs', async () => {
    for (const [file, problem] of [
      [
        'allowedUsers: [maya\npullRequests: draft\n',
        /`\.github\/forge\.yml` is not valid YAML .*mentions `allowedUsers` or `allowedTeams`/,
      ],
      ['allowedUsers: []\n', /`allowedUsers`: expected a non-empty list of logins/],
      ['allowed_users: [maya]\n', /unknown key `allowed_users` — did you mean `allowedUsers`\?/],
    ] as const) {
      await settingsFile(file);
      const issue = h.newIssue('Broken list');
      await h.comment({ number: issue, body: '/forge do it', user: 'maya' });
      const reply = await waitFor(
        () => h.github.comments(REPO, issue).find((c) => c.user === 'forge-test[bot]'),
        20_000,
        { what: 'the refusal' },
      );
      assert.match(
        reply.body,
        /^@maya Forge cannot tell who may ask it here, so it does nothing until `\.github\/forge\.yml` on `main` is fixed:/,
      );
      assert.match(reply.body, problem);
      assert.match(reply.body, /remove the key to let everyone with write access ask/);
      await h.quiet();
      assert.equal(h.github.comments(REPO, issue).filter((c) => c.user === 'forge-test[bot]').length, 1);
      assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined, 'no task started');
    }
  });

  test("triggerLabel: the repository's label starts a task, the operator's no longer does there", async () => {
    await settingsFile('triggerLabel: ai\n');
    const issue = h.newIssue('Labelled work', 'Write docs');
    await h.label({ number: issue, label: 'forge' });
    await h.quiet();
    assert.equal(await h.forge.store.findByNumber(REPO_REF, issue), undefined);
    await h.label({ number: issue, label: 'ai' });
    const task = await h.settled(issue);
    assert.equal(task.turns[0]!.state, 'completed', task.turns[0]!.error);
    assert.match(task.turns[0]!.instruction, /Labelled work/);
  });
});

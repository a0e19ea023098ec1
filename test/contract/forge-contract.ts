/**
 * The Forge contract: behaviour every `Forge` implementation (GitHub, GitLab) must show,
 * run against a real or faithfully faked code host. An implementation's test file calls
 * `forgeContract(name, setup)` with a setup that builds the Forge for one fresh repository and a
 * small adapter to seed the host and read it back. The suite only ever goes through that adapter,
 * so it never knows which host it talks to.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type {
  Actor,
  CheckConclusion,
  CheckStatus,
  Conversation,
  Forge,
  ReviewVerdict,
} from '../../src/forge/types.js';

export type ContractPermission = 'admin' | 'maintain' | 'write' | 'read' | 'none';

export interface ContractComment {
  id: number;
  body: string;
  author: string;
}

export interface ContractCheck {
  id: number;
  sha: string;
  status: CheckStatus | string;
  conclusion: CheckConclusion | string | null;
  title: string | null;
}

export interface ContractEnv {
  /** The Forge under test, bound to the repository the adapter seeds. */
  forge: Forge;
  /** Login the Forge's own writes are attributed to (the bot account). */
  botLogin: string;
  /** What `forge.words` must say on this host. */
  expectedWords: {
    changeRequest: string;
    changeRequestShort: string;
    /** `changeRequestRef(3)` */
    changeRequestRef3: string;
    /** `issueRef(3)` */
    issueRef3: string;
    repository: string;
    settingsPath: string;
    /** `noreplyEmail('alice', 42)` */
    noreplyEmailAlice42: string;
  };
  /**
   * Whether issues and change requests share one number sequence (GitHub: a pull request is also
   * issue #n; GitLab: issue #n and merge request !n are different things).
   */
  sharedNumbers: boolean;
  /**
   * Whether a submitted review carries a body of its own (GitHub: yes; GitLab: no, a review's
   * summary is a plain comment on the change request, and approving adds none).
   */
  reviewBodies: boolean;
  /** Forge's own account as the host's webhooks name it. */
  selfActor: Actor;
  /** The actor a webhook would name for a user the adapter knows (after `setPermission`). */
  actorFor(login: string): Actor;
  /** Creates another bot account (an App, an access-token bot) and returns it as webhooks name it. */
  seedBotUser(): Promise<Actor>;
  /** Opens an issue (as a human) and returns its number. */
  seedIssue(title: string, body: string): Promise<number>;
  /** A human's comment on an issue or change request; returns its id. */
  seedComment(on: Conversation, body: string, author: string): Promise<number>;
  /** Deletes a comment (to make a remembered comment id stale). */
  deleteComment(id: number): Promise<void>;
  /** Creates a branch with one commit on top of the default branch; returns its head sha. */
  seedBranch(name: string): Promise<string>;
  /** Commits `content` at `path` on an existing branch (the default branch included), as a human. */
  seedFile(branch: string, path: string, content: string): Promise<void>;
  /**
   * A team whose members are these (active) users — GitHub: a team of the repository's
   * organization; GitLab: a group Forge's user can see. Returns the path `isTeamMember` takes.
   */
  seedTeam(members: readonly string[]): Promise<string>;
  /** Grants `login` a permission on the repository ('none': a known user without access). */
  setPermission(login: string, permission: ContractPermission): Promise<void>;
  /** Comments on an issue or change request, oldest first (review thread comments not included). */
  comments(on: Conversation): Promise<ContractComment[]>;
  /** Reactions on a comment. */
  reactions(commentId: number): Promise<{ content: string; author: string }[]>;
  /** Every check (check run / commit status) reported in the repository, oldest first. */
  checks(): Promise<ContractCheck[]>;
  /** What the host holds for a change request. */
  changeRequest(
    number: number,
  ): Promise<{ title: string; body: string; draft: boolean; head: string; base: string }>;
  /** A human's comment that starts a review thread on a change request; returns the thread id. */
  seedThread(number: number, body: string, author: string): Promise<string>;
  /** A human's reply in a review thread. */
  seedThreadReply(number: number, threadId: string, body: string, author: string): Promise<void>;
  /** Marks a review thread resolved, as a reviewer would. */
  resolveThread(number: number, threadId: string): Promise<void>;
  /**
   * A submitted review with a body (empty: a bare approval). Where `reviewBodies` is false, the body
   * is posted as the host posts it: a plain comment.
   */
  seedReview(number: number, body: string, author: string, verdict: ReviewVerdict): Promise<void>;
  /** Comments in a review thread, oldest first (the opening comment included). */
  threadComments(number: number, threadId: string): Promise<ContractComment[]>;
  /** Makes the change request's head live in a fork (another owner's copy of the repository). */
  markFork(number: number): Promise<void>;
  /** Called after every test, e.g. to fail on protocol violations a fake recorded. */
  afterEach?(): void | Promise<void>;
  close(): Promise<void>;
}

const marker = (name: string) => `<!-- forge:contract:${name} -->`;
const issue = (number: number): Conversation => ({ type: 'issue', number });
const changeRequest = (number: number): Conversation => ({ type: 'change_request', number });

function git(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: '/nonexistent',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_TERMINAL_PROMPT: '0',
          LANG: 'C',
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

/** `git clone` with HTTP Basic credentials sent as a header (never written into the URL or config). */
async function cloneWith(url: string, username: string, password: string, dir: string) {
  const basic = Buffer.from(`${username}:${password}`).toString('base64');
  return git([
    '-c',
    'credential.helper=',
    '-c',
    `http.extraHeader=Authorization: Basic ${basic}`,
    'clone',
    '--quiet',
    url,
    dir,
  ]);
}

export function forgeContract(name: string, setup: () => Promise<ContractEnv>): void {
  describe(`Forge contract: ${name}`, () => {
    let env: ContractEnv;
    let forge: Forge;
    let seq = 0;
    const unique = (what: string) => `${what}-${++seq}-${Date.now().toString(36)}`;
    /** A change request on a fresh branch; returns its number. */
    const openChangeRequest = async (head: string): Promise<number> => {
      await env.seedBranch(head);
      const cr = await forge.createChangeRequest({
        head,
        base: forge.repo.defaultBranch,
        title: `Contract ${head}`,
        body: 'b',
        draft: false,
      });
      return cr.number;
    };

    before(async () => {
      env = await setup();
      forge = env.forge;
    });
    after(async () => {
      await env?.close();
    });
    afterEach(async () => {
      await env?.afterEach?.();
    });

    test('words: the host’s names for change requests and references', () => {
      const w = env.expectedWords;
      assert.equal(forge.words.changeRequest, w.changeRequest);
      assert.equal(forge.words.changeRequestShort, w.changeRequestShort);
      assert.equal(forge.words.changeRequestRef(3), w.changeRequestRef3);
      assert.equal(forge.words.issueRef(3), w.issueRef3);
      assert.equal(forge.words.repository, w.repository);
      assert.equal(forge.words.settingsPath, w.settingsPath);
      assert.equal(forge.words.noreplyEmail('alice', 42), w.noreplyEmailAlice42);
      assert.ok(forge.words.writeAccess.length > 0);
      assert.ok(forge.words.accessHint.length > 0);
    });

    test('isBot: a human is not, Forge’s own account and other bots are', async () => {
      const login = unique('human');
      await env.setPermission(login, 'write');
      assert.equal(await forge.isBot(env.actorFor(login)), false, 'a human');
      assert.equal(await forge.isBot(env.selfActor), true, 'Forge itself');
      assert.equal(await forge.isBot(await env.seedBotUser()), true, 'another bot');
    });

    test('getPermission maps admin/maintain/write/read/none, and an unknown user is none', async () => {
      const cases: ContractPermission[] = ['admin', 'maintain', 'write', 'read', 'none'];
      for (const permission of cases) {
        const login = unique(`user-${permission}`);
        await env.setPermission(login, permission);
        assert.equal(await forge.getPermission(login), permission, `${login} has ${permission}`);
      }
      assert.equal(await forge.getPermission(unique('nobody-at-all')), 'none');
    });

    test('isTeamMember: the team’s members are, anyone else and an unknown team are not', async () => {
      const [kim, lee, max] = [unique('kim'), unique('lee'), unique('max')];
      const team = await env.seedTeam([kim, lee]);
      const other = await env.seedTeam([max]);
      assert.equal(await forge.isTeamMember(team, kim), true);
      assert.equal(await forge.isTeamMember(team, lee.toUpperCase()), true, 'logins match in any case');
      assert.equal(await forge.isTeamMember(team, max), false, 'a member of another team');
      assert.equal(await forge.isTeamMember(other, kim), false);
      assert.equal(await forge.isTeamMember(team, unique('nobody-at-all')), false, 'an unknown user');
      assert.equal(await forge.isTeamMember(`${team}-gone`, kim), false, 'an unknown team');
    });

    test('getIssue returns the issue as the host holds it', async () => {
      const title = 'Contract: an issue with unicode ✓';
      const body = 'Line one\n\nLine two with `code`.';
      const number = await env.seedIssue(title, body);
      const issue = await forge.getIssue(number);
      assert.equal(issue.number, number);
      assert.equal(issue.title, title);
      assert.equal(issue.body, body);
      assert.equal(issue.isChangeRequest, false);
      assert.match(issue.url, /^https?:\/\//);
    });

    test('getIssue of a missing issue rejects', async () => {
      await assert.rejects(forge.getIssue(987_654));
    });

    test('postComment creates a plain comment by the bot', async () => {
      const number = await env.seedIssue('Contract: postComment', 'body');
      const { id } = await forge.postComment(issue(number), 'Hello from the contract.');
      const comments = await env.comments(issue(number));
      assert.deepEqual(comments, [{ id, body: 'Hello from the contract.', author: env.botLogin }]);
    });

    test('ensureComment creates once, then edits the same comment in place', async () => {
      const number = await env.seedIssue('Contract: sticky', 'body');
      await env.seedComment(issue(number), 'A human comment first.', 'alice');
      const m = marker(unique('sticky'));
      const first = await forge.ensureComment(issue(number), m, 'first');
      const second = await forge.ensureComment(issue(number), m, 'second', first.id);
      // No remembered id: found by its marker.
      const third = await forge.ensureComment(issue(number), m, 'third');
      assert.equal(second.id, first.id);
      assert.equal(third.id, first.id);
      const mine = (await env.comments(issue(number))).filter((c) => c.body.includes(m));
      assert.equal(mine.length, 1, 'one sticky comment');
      assert.equal(mine[0]!.id, first.id);
      assert.equal(mine[0]!.author, env.botLogin);
      assert.ok(mine[0]!.body.includes('third'), 'the latest body wins');
      assert.ok(!mine[0]!.body.includes('second'));
      const human = (await env.comments(issue(number))).find((c) => c.author === 'alice');
      assert.equal(human?.body, 'A human comment first.', 'other comments are untouched');
    });

    test('ensureComment keeps a body that already carries the marker as is', async () => {
      const number = await env.seedIssue('Contract: marker inside', 'body');
      const m = marker(unique('inside'));
      const body = `Progress\n\n${m}\nmore`;
      const { id } = await forge.ensureComment(issue(number), m, body);
      const [comment] = (await env.comments(issue(number))).filter((c) => c.id === id);
      assert.equal(comment?.body, body);
    });

    test("ensureComment never takes a person's comment that carries the marker for its own", async () => {
      const number = await env.seedIssue('Contract: pasted marker', 'body');
      const m = marker(unique('pasted'));
      const pasted = await env.seedComment(issue(number), `Look what I found: ${m}`, 'alice');
      const { id } = await forge.ensureComment(issue(number), m, 'progress');
      assert.notEqual(id, pasted);
      const comments = await env.comments(issue(number));
      assert.equal(comments.find((c) => c.id === pasted)?.body, `Look what I found: ${m}`, 'left alone');
      assert.equal(comments.find((c) => c.id === id)?.author, env.botLogin);
    });

    test('ensureComment with a stale remembered id finds the marker, or creates a new comment', async () => {
      const number = await env.seedIssue('Contract: stale id', 'body');
      const m = marker(unique('stale'));
      const { id } = await forge.ensureComment(issue(number), m, 'v1');
      const helper = await env.seedComment(issue(number), 'to be deleted', 'alice');
      await env.deleteComment(helper);
      // A wrong (deleted) id: the search by marker still finds the sticky comment.
      const again = await forge.ensureComment(issue(number), m, 'v2', helper);
      assert.equal(again.id, id);
      assert.equal((await env.comments(issue(number))).filter((c) => c.body.includes(m)).length, 1);

      // The sticky comment itself was deleted: a new one is created, once.
      await env.deleteComment(id);
      const fresh = await forge.ensureComment(issue(number), m, 'v3', id);
      assert.notEqual(fresh.id, id);
      const last = await forge.ensureComment(issue(number), m, 'v4', id);
      assert.equal(last.id, fresh.id);
      const mine = (await env.comments(issue(number))).filter((c) => c.body.includes(m));
      assert.equal(mine.length, 1);
      assert.ok(mine[0]!.body.includes('v4'));
    });

    test('ensureComment finds its marker beyond the first page (more than 100 comments)', async () => {
      const number = await env.seedIssue('Contract: busy issue', 'body');
      for (let i = 0; i < 120; i++)
        await env.seedComment(issue(number), `filler ${i}`, i % 2 ? 'alice' : 'bob');
      const m = marker(unique('busy'));
      const created = await forge.ensureComment(issue(number), m, 'first');
      for (let i = 0; i < 30; i++) await env.seedComment(issue(number), `later filler ${i}`, 'alice');
      const found = await forge.ensureComment(issue(number), m, 'second');
      assert.equal(found.id, created.id);
      const all = await env.comments(issue(number));
      assert.equal(all.length, 151);
      const mine = all.filter((c) => c.body.includes(m));
      assert.equal(mine.length, 1);
      assert.ok(mine[0]!.body.includes('second'));
    });

    test('addReaction puts 👀 on an issue comment, once', async () => {
      const number = await env.seedIssue('Contract: reaction', 'body');
      const commentId = await env.seedComment(issue(number), '/forge do it', 'alice');
      const ref = { id: commentId, place: { type: 'issue' as const, number } };
      await forge.addReaction(ref, 'eyes');
      await forge.addReaction(ref, 'eyes');
      assert.deepEqual(await env.reactions(commentId), [{ content: 'eyes', author: env.botLogin }]);
    });

    test('reportCheck creates a check on a commit, then updates it to completed', async () => {
      const sha = await env.seedBranch(unique('check'));
      const before = (await env.checks()).length;
      const { id } = await forge.reportCheck({
        sha,
        status: 'in_progress',
        title: 'Working',
        summary: 'The agent is running.',
        externalId: unique('task/1'),
        detailsUrl: 'http://forge.test/tasks/x',
      });
      let checks = await env.checks();
      assert.equal(checks.length, before + 1);
      assert.deepEqual(checks.at(-1), { id, sha, status: 'in_progress', conclusion: null, title: 'Working' });

      const updated = await forge.reportCheck(
        {
          sha,
          status: 'completed',
          conclusion: 'success',
          title: 'Done',
          summary: 'All good.',
          externalId: 'x',
        },
        id,
      );
      assert.equal(updated.id, id);
      checks = await env.checks();
      assert.equal(checks.length, before + 1, 'updated in place, not duplicated');
      assert.deepEqual(checks.at(-1), { id, sha, status: 'completed', conclusion: 'success', title: 'Done' });
    });

    test('reportCheck reports failure, and completed without a conclusion is neutral', async () => {
      const sha = await env.seedBranch(unique('check-fail'));
      const failed = await forge.reportCheck({
        sha,
        status: 'completed',
        conclusion: 'failure',
        title: 'Failed',
        summary: 'The agent failed.',
        externalId: unique('task/2'),
      });
      const neutral = await forge.reportCheck({
        sha,
        status: 'completed',
        title: 'Nothing to do',
        summary: 'No changes.',
        externalId: unique('task/3'),
      });
      const checks = await env.checks();
      assert.equal(checks.find((c) => c.id === failed.id)?.conclusion, 'failure');
      assert.equal(checks.find((c) => c.id === neutral.id)?.conclusion, 'neutral');
    });

    test('createChangeRequest opens ready and draft change requests', async () => {
      const base = forge.repo.defaultBranch;
      for (const draft of [false, true]) {
        const head = unique(draft ? 'forge/draft' : 'forge/ready');
        const sha = await env.seedBranch(head);
        const cr = await forge.createChangeRequest({
          head,
          base,
          title: `Contract ${draft ? 'draft' : 'ready'}`,
          body: 'Closes something.',
          draft,
        });
        assert.equal(cr.headBranch, head);
        assert.equal(cr.baseBranch, base);
        assert.equal(cr.headSha, sha);
        assert.equal(cr.isFork, false);
        assert.equal(cr.state, 'open');
        assert.match(cr.url, /^https?:\/\//);
        assert.deepEqual(await env.changeRequest(cr.number), {
          title: `Contract ${draft ? 'draft' : 'ready'}`,
          body: 'Closes something.',
          draft,
          head,
          base,
        });
        if (env.sharedNumbers) {
          const asIssue = await forge.getIssue(cr.number);
          assert.equal(asIssue.isChangeRequest, true);
        }
        assert.deepEqual(await forge.getChangeRequest(cr.number), cr);
      }
    });

    test('replyInThread answers inside the review thread, as the bot', async () => {
      const head = unique('forge/thread');
      await env.seedBranch(head);
      const cr = await forge.createChangeRequest({
        head,
        base: forge.repo.defaultBranch,
        title: 'Thread',
        body: 'b',
        draft: false,
      });
      const threadId = await env.seedThread(cr.number, 'Please rename this.', 'alice');
      const { id } = await forge.replyInThread(cr.number, threadId, 'Renamed in abc1234.');
      const thread = await env.threadComments(cr.number, threadId);
      assert.deepEqual(
        thread.map((c) => [c.body, c.author]),
        [
          ['Please rename this.', 'alice'],
          ['Renamed in abc1234.', env.botLogin],
        ],
      );
      assert.equal(thread[1]!.id, id);
    });

    test('comments, stickies and 👀 on a change request land on the change request', async () => {
      const head = unique('forge/conversation');
      await env.seedBranch(head);
      // An issue that may share the change request's number (GitLab numbers them apart).
      const other = await env.seedIssue('Contract: neighbour', 'body');
      const cr = await forge.createChangeRequest({
        head,
        base: forge.repo.defaultBranch,
        title: 'Conversation',
        body: 'b',
        draft: false,
      });
      const here = changeRequest(cr.number);
      const human = await env.seedComment(here, '/forge on the change request', 'alice');
      const { id } = await forge.postComment(here, 'A reply on the change request.');
      const m = marker(unique('cr-sticky'));
      const sticky = await forge.ensureComment(here, m, 'one');
      assert.equal((await forge.ensureComment(here, m, 'two')).id, sticky.id);
      await forge.addReaction({ id: human, place: { type: 'change_request', number: cr.number } }, 'eyes');
      const held = await env.comments(here);
      assert.deepEqual(
        held.map((c) => [c.id, c.author]),
        [
          [human, 'alice'],
          [id, env.botLogin],
          [sticky.id, env.botLogin],
        ],
      );
      assert.ok(held[2]!.body.includes('two'));
      assert.deepEqual(await env.reactions(human), [{ content: 'eyes', author: env.botLogin }]);
      if (!env.sharedNumbers) {
        const neighbour = await env.comments(issue(other));
        assert.ok(
          neighbour.every((c) => c.author !== env.botLogin),
          'nothing landed on an issue that happens to share the number',
        );
      }
    });

    test('addReaction puts 👀 on a comment inside a review thread', async () => {
      const head = unique('forge/thread-eyes');
      await env.seedBranch(head);
      const cr = await forge.createChangeRequest({
        head,
        base: forge.repo.defaultBranch,
        title: 'Thread eyes',
        body: 'b',
        draft: false,
      });
      const threadId = await env.seedThread(cr.number, '/forge rename this', 'alice');
      const [opening] = await env.threadComments(cr.number, threadId);
      await forge.addReaction(
        { id: opening!.id, place: { type: 'review_thread', number: cr.number, threadId } },
        'eyes',
      );
      assert.deepEqual(await env.reactions(opening!.id), [{ content: 'eyes', author: env.botLogin }]);
    });

    test('reportCheck: repeated in-progress reports keep one check, which then completes', async () => {
      const branch = unique('check-repeat');
      const sha = await env.seedBranch(branch);
      const before = (await env.checks()).length;
      const base = { sha, ref: branch, summary: 's', externalId: unique('task/4') };
      const { id } = await forge.reportCheck({ ...base, status: 'in_progress', title: 'Preparing' });
      const again = await forge.reportCheck({ ...base, status: 'in_progress', title: 'Agent working' }, id);
      assert.equal(again.id, id);
      const done = await forge.reportCheck(
        { ...base, status: 'completed', conclusion: 'cancelled', title: 'Stopped' },
        id,
      );
      assert.equal(done.id, id);
      const checks = await env.checks();
      assert.equal(checks.length, before + 1, 'one check');
      assert.deepEqual(checks.at(-1), {
        id,
        sha,
        status: 'completed',
        conclusion: 'cancelled',
        title: 'Stopped',
      });
    });

    test('listReviewFeedback: unresolved threads with all their comments, not resolved ones', async () => {
      const cr = await openChangeRequest(unique('forge/feedback'));
      const open = await env.seedThread(cr, 'Rename this function.', 'alice');
      await env.seedThreadReply(cr, open, 'And update the docs.', 'bob');
      const done = await env.seedThread(cr, 'Typo here.', 'alice');
      await env.resolveThread(cr, done);
      const feedback = await forge.listReviewFeedback(cr);
      assert.deepEqual(
        feedback.threads.map((t) => t.threadId),
        [open],
        'the resolved thread is left out',
      );
      const [thread] = feedback.threads;
      assert.equal(thread!.path, 'README.md');
      assert.equal(thread!.line, 1);
      assert.deepEqual(
        thread!.comments.map((c) => [c.author, c.body]),
        [
          ['alice', 'Rename this function.'],
          ['bob', 'And update the docs.'],
        ],
      );
      assert.ok(thread!.comments.every((c) => !Number.isNaN(Date.parse(c.createdAt))));
      assert.deepEqual(feedback.reviews, []);
      assert.deepEqual(feedback.comments, []);

      // The thread id is what replyInThread takes.
      await forge.replyInThread(cr, thread!.threadId, 'Renamed in abc1234.');
      const again = await forge.listReviewFeedback(cr);
      assert.deepEqual(again.threads[0]!.comments.map((c) => [c.author, c.body]).at(-1), [
        env.botLogin,
        'Renamed in abc1234.',
      ]);
    });

    test('listReviewFeedback pages past 100 threads, 100 comments in a thread and 100 conversation comments', async () => {
      const cr = await openChangeRequest(unique('forge/busy-review'));
      const threadIds: string[] = [];
      for (let i = 0; i < 105; i++)
        threadIds.push(await env.seedThread(cr, `note ${i}`, i % 2 ? 'alice' : 'bob'));
      await env.resolveThread(cr, threadIds[3]!);
      const busy = threadIds[0]!;
      for (let i = 0; i < 104; i++) await env.seedThreadReply(cr, busy, `reply ${i}`, 'maya');
      for (let i = 0; i < 103; i++) await env.seedComment(changeRequest(cr), `conversation ${i}`, 'alice');
      const feedback = await forge.listReviewFeedback(cr);
      assert.equal(feedback.threads.length, 104, '105 threads, one resolved');
      assert.deepEqual(
        feedback.threads.map((t) => t.threadId),
        threadIds.filter((_, i) => i !== 3),
      );
      assert.equal(feedback.threads.at(-1)!.comments[0]!.body, 'note 104');
      const all = feedback.threads.find((t) => t.threadId === busy)!.comments;
      assert.equal(all.length, 105);
      assert.equal(all[0]!.body, 'note 0');
      assert.equal(all.at(-1)!.body, 'reply 103');
      assert.equal(feedback.comments.length, 103);
      assert.deepEqual(
        feedback.comments.map((c) => c.body),
        Array.from({ length: 103 }, (_, i) => `conversation ${i}`),
      );
    });

    test('listReviewFeedback: submitted review bodies with their verdict, bare approvals left out', async () => {
      const cr = await openChangeRequest(unique('forge/reviews'));
      await env.seedReview(cr, 'Please split this into two commits.', 'maya', 'changes_requested');
      await env.seedReview(cr, '', 'bob', 'approved');
      await env.seedReview(cr, 'Looks good apart from the naming.', 'alice', 'commented');
      await env.seedComment(changeRequest(cr), 'When will this land?', 'bob');
      const feedback = await forge.listReviewFeedback(cr);
      const bodies = [
        ['maya', 'changes_requested', 'Please split this into two commits.'],
        ['alice', 'commented', 'Looks good apart from the naming.'],
      ];
      if (env.reviewBodies) {
        assert.deepEqual(
          feedback.reviews.map((r) => [r.author, r.state, r.body]),
          bodies,
        );
        assert.deepEqual(
          feedback.comments.map((c) => [c.author, c.body]),
          [['bob', 'When will this land?']],
        );
      } else {
        // No review bodies on this host: the summaries are plain comments, oldest first.
        assert.deepEqual(feedback.reviews, []);
        assert.deepEqual(
          feedback.comments.map((c) => [c.author, c.body]),
          [...bodies.map(([author, , body]) => [author, body]), ['bob', 'When will this land?']],
        );
      }
      assert.deepEqual(feedback.threads, []);
    });

    test('createChangeRequest retried for the same head returns the same change request', async () => {
      const head = unique('forge/retry');
      await env.seedBranch(head);
      const input = { head, base: forge.repo.defaultBranch, title: 'Retry', body: 'b', draft: false };
      const first = await forge.createChangeRequest(input);
      const second = await forge.createChangeRequest(input);
      assert.equal(second.number, first.number);
      assert.equal(second.headBranch, head);
      const found = await forge.findOpenChangeRequest(head);
      assert.equal(found?.number, first.number);
      assert.equal(found?.isFork, false);
    });

    test('createChangeRequest rejects a head branch that does not exist', async () => {
      await assert.rejects(
        forge.createChangeRequest({
          head: unique('no-such-branch'),
          base: forge.repo.defaultBranch,
          title: 'x',
          body: 'x',
          draft: false,
        }),
      );
    });

    test('findOpenChangeRequest: undefined for a branch without one', async () => {
      const head = unique('forge/lonely');
      await env.seedBranch(head);
      assert.equal(await forge.findOpenChangeRequest(head), undefined);
      assert.equal(await forge.findOpenChangeRequest(unique('never-pushed')), undefined);
    });

    test('updateChangeRequest changes title and body', async () => {
      const head = unique('forge/update');
      await env.seedBranch(head);
      const cr = await forge.createChangeRequest({
        head,
        base: forge.repo.defaultBranch,
        title: 'Before',
        body: 'old body',
        draft: true,
      });
      await forge.updateChangeRequest(cr.number, { body: 'new body' });
      await forge.updateChangeRequest(cr.number, { title: 'After' });
      const held = await env.changeRequest(cr.number);
      assert.equal(held.title, 'After');
      assert.equal(held.body, 'new body');
    });

    test('getChangeRequest flags a fork’s change request, and findOpenChangeRequest ignores it', async () => {
      const head = unique('feature/from-fork');
      await env.seedBranch(head);
      const cr = await forge.createChangeRequest({
        head,
        base: forge.repo.defaultBranch,
        title: 'From a fork',
        body: 'b',
        draft: false,
      });
      assert.equal((await forge.getChangeRequest(cr.number)).isFork, false);
      await env.markFork(cr.number);
      const fork = await forge.getChangeRequest(cr.number);
      assert.equal(fork.isFork, true);
      assert.equal(fork.number, cr.number);
      assert.equal(fork.headBranch, head);
      assert.equal(
        await forge.findOpenChangeRequest(head),
        undefined,
        'a fork’s branch of the same name is not ours',
      );
    });

    test('readFile reads a file on the default branch; missing, a directory or another branch’s file is undefined', async () => {
      const base = forge.repo.defaultBranch;
      const dir = unique('settings');
      const text = 'triggerLabel: ai\n# ünïcode ✓\n'.repeat(40);
      await env.seedFile(base, `${dir}/forge.yml`, text);
      assert.equal(await forge.readFile(`${dir}/forge.yml`, base), text);
      assert.equal(await forge.readFile(`${dir}/missing.yml`, base), undefined);
      assert.equal(await forge.readFile(dir, base), undefined, 'a directory is not a file');

      const branch = unique('contract/readfile');
      await env.seedBranch(branch);
      await env.seedFile(branch, `${dir}/only-here.yml`, 'agent: evil\n');
      assert.equal(await forge.readFile(`${dir}/only-here.yml`, branch), 'agent: evil\n');
      assert.equal(
        await forge.readFile(`${dir}/only-here.yml`, base),
        undefined,
        'a file only on another branch is not seen at the default branch',
      );
    });

    test('branchExists', async () => {
      const name = unique('forge/exists');
      assert.equal(await forge.branchExists(name), false);
      await env.seedBranch(name);
      assert.equal(await forge.branchExists(name), true);
      assert.equal(await forge.branchExists(forge.repo.defaultBranch), true);
    });

    test('gitCredentials: the git server accepts them for a clone, and refuses without them', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'forge-contract-clone-'));
      try {
        const creds = await forge.gitCredentials();
        assert.ok(creds.username.length > 0 && creds.password.length > 0);
        assert.ok(!forge.repo.cloneUrl.includes(creds.password), 'the clone URL carries no credentials');
        const ok = await cloneWith(forge.repo.cloneUrl, creds.username, creds.password, join(dir, 'ok'));
        assert.equal(ok.code, 0, ok.stderr);
        const readme = await readFile(join(dir, 'ok', 'README.md'), 'utf8');
        assert.ok(readme.length > 0);
        const head = await git(['rev-parse', '--abbrev-ref', 'HEAD'], join(dir, 'ok'));
        assert.equal(head.stdout.trim(), forge.repo.defaultBranch);

        const bad = await cloneWith(
          forge.repo.cloneUrl,
          creds.username,
          `${creds.password}x`,
          join(dir, 'bad'),
        );
        assert.notEqual(bad.code, 0, 'a wrong password is refused');
        const anonymous = await git(['clone', '--quiet', forge.repo.cloneUrl, join(dir, 'anon')]);
        assert.notEqual(anonymous.code, 0, 'an anonymous clone is refused');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}

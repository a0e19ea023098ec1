import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { GitLabForgeFactory } from '../../src/forge/gitlab/app.js';
import { createGitLabClient } from '../../src/forge/gitlab/client.js';
import type { GitLabForge } from '../../src/forge/gitlab/forge.js';
import { isDraftTitle } from '../../src/forge/gitlab/map.js';
import type { RepoRef } from '../../src/forge/types.js';
import { FakeGitLab, gitServerHooks, type StatusState } from '../kit/fake-gitlab/index.js';
import { type GitServer, startGitServer } from '../kit/git-server.js';
import { type ContractEnv, type ContractPermission, forgeContract } from './forge-contract.js';

/**
 * GitLabForge against the strict fake GitLab REST API, with a real git smart-HTTP server that
 * accepts `oauth2:<token>` for exactly the tokens the fake issued to Developers and above. The
 * project lives in a subgroup, so every request carries `acme%2Fplatform%2Fwidgets` as its id.
 */

const PROJECT = 'acme/platform/widgets';
// A regular account used as Forge's bot: GitLab does not flag it, so only `GET /user` tells it is Forge.
const BOT = 'forge-bot';
const run = promisify(execFile);

const ROLE: Record<ContractPermission, 'owner' | 'maintainer' | 'developer' | 'guest' | 'none'> = {
  admin: 'owner',
  maintain: 'maintainer',
  write: 'developer',
  read: 'guest',
  none: 'none',
};

/** A commit status in the contract's check vocabulary (`description` is its title). */
function asCheck(s: StatusState) {
  const active = s.status === 'pending' || s.status === 'running';
  const conclusion = {
    success: 'success',
    failed: 'failure',
    canceled: 'cancelled',
    skipped: 'neutral',
  } as const;
  return {
    id: s.id,
    sha: s.sha,
    status: s.status === 'pending' ? 'queued' : active ? 'in_progress' : 'completed',
    conclusion: active ? null : conclusion[s.status as keyof typeof conclusion],
    title: s.description,
  };
}

interface Started {
  env: ContractEnv;
  gitlab: FakeGitLab;
  git: GitServer;
  forge: GitLabForge;
}

async function start(): Promise<Started> {
  let gitlab!: FakeGitLab;
  const git = await startGitServer({
    acceptToken: (token, repoPath, user) => user === 'oauth2' && gitlab.tokenAllows(token, repoPath),
  });
  gitlab = await FakeGitLab.start(gitServerHooks(git));
  gitlab.addProject(PROJECT);
  const bot = gitlab.addUser(BOT, { name: 'Forge' });
  gitlab.setRole(PROJECT, BOT, 'developer');
  gitlab.setRole(PROJECT, 'alice', 'developer');
  const token = gitlab.issueToken(BOT);
  const mainSha = await git.seedRepo(`${PROJECT}.git`, { 'README.md': '# Widgets\n' });
  const factory = new GitLabForgeFactory({
    url: gitlab.url,
    token,
    client: createGitLabClient({ url: gitlab.url, token }),
  });
  const repo: RepoRef = {
    forge: 'gitlab',
    path: PROJECT,
    // GitLab serves git on the API's origin; the fake passes git requests on to the real git server.
    cloneUrl: gitlab.cloneUrl(PROJECT),
    defaultBranch: 'main',
    webUrl: `${gitlab.url}/${PROJECT}`,
  };
  const forge = (await factory.forRepo(repo)) as GitLabForge;
  const bare = join(git.root, `${PROJECT}.git`);
  const on = (c: { type: 'issue' | 'change_request'; number: number }) => ({
    type: c.type === 'issue' ? ('issue' as const) : ('merge_request' as const),
    iid: c.number,
  });

  /**
   * Review feedback hooks. GitLab has no review bodies: a submitted review's summary is a plain
   * note, and approving adds none.
   */
  const reviewHooks = {
    reviewBodies: false,
    async seedThreadReply(_number: number, threadId: string, body: string, author: string) {
      gitlab.replyInThread(PROJECT, threadId, { body, author });
    },
    async resolveThread(_number: number, threadId: string) {
      gitlab.resolveThread(threadId);
    },
    async seedReview(number: number, body: string, author: string) {
      if (body) gitlab.addNote(PROJECT, { type: 'merge_request', iid: number }, { body, author });
    },
  };
  const env: ContractEnv = {
    ...reviewHooks,
    forge,
    botLogin: BOT,
    expectedWords: {
      changeRequest: 'merge request',
      changeRequestShort: 'MR',
      changeRequestRef3: '!3',
      issueRef3: '#3',
      repository: 'project',
      settingsPath: '.gitlab/forge.yml',
      noreplyEmailAlice42: '42-alice@users.noreply.127.0.0.1',
    },
    sharedNumbers: false,
    selfActor: { login: BOT, id: bot.id, isBot: false },
    actorFor: (login) => ({ login, id: gitlab.user(login).id, isBot: false }),
    async seedBotUser() {
      // A service account: GitLab flags it `bot`, its name does not say so.
      const other = gitlab.addUser(`renovate-runner-${gitlab.state.nextId()}`, { bot: true });
      return { login: other.username, id: other.id, isBot: false };
    },
    async seedIssue(title, body) {
      return gitlab.addIssue(PROJECT, { title, description: body, author: 'alice' }).iid;
    },
    async seedComment(c, body, author) {
      return gitlab.addNote(PROJECT, on(c), { body, author }).id;
    },
    async deleteComment(id) {
      gitlab.deleteNote(id);
    },
    async seedBranch(name) {
      await run('git', ['--git-dir', bare, 'update-ref', `refs/heads/${name}`, mainSha]);
      return git.pushAs(
        `${PROJECT}.git`,
        name,
        { [`${name.replace(/\//g, '-')}.txt`]: `${name}\n` },
        `Work on ${name}`,
      );
    },
    async seedFile(branch, path, content) {
      await git.pushAs(`${PROJECT}.git`, branch, { [path]: content }, `Add ${path}`);
    },
    async seedTeam(members) {
      // Forge's user is a member so it can see the (private) group; see the GitLab specifics below.
      const path = `acme/team-${gitlab.state.nextId()}`;
      gitlab.addGroup(path);
      gitlab.setGroupRole(path, BOT, 'guest');
      for (const login of members) gitlab.setGroupRole(path, login, 'reporter');
      return path;
    },
    async setPermission(login, permission) {
      gitlab.setRole(PROJECT, login, ROLE[permission]);
    },
    async comments(c) {
      // Standalone notes: thread notes are what `threadComments` reads.
      return gitlab
        .notes(PROJECT, on(c))
        .filter((n) => n.type === null && !n.system)
        .map((n) => ({ id: n.id, body: n.body, author: gitlab.usernameOf(n.authorId) }));
    },
    async reactions(commentId) {
      return gitlab.awards(commentId).map((a) => ({ content: a.name, author: gitlab.usernameOf(a.userId) }));
    },
    async checks() {
      return gitlab.statuses(PROJECT).map(asCheck);
    },
    async changeRequest(number) {
      const mr = gitlab.mergeRequest(PROJECT, number);
      const draft = isDraftTitle(mr.title);
      return {
        title: draft ? mr.title.replace(/^\s*(\[draft\]|\(draft\)|draft:)\s*/i, '') : mr.title,
        body: mr.description,
        draft,
        head: mr.sourceBranch,
        base: mr.targetBranch,
      };
    },
    async seedThread(number, body, author) {
      return gitlab.startThread(PROJECT, number, { body, author, path: 'README.md', line: 1 }).discussionId;
    },
    async threadComments(_number, threadId) {
      return gitlab
        .threadNotes(threadId)
        .map((n) => ({ id: n.id, body: n.body, author: gitlab.usernameOf(n.authorId) }));
    },
    async markFork(number) {
      gitlab.makeFork(PROJECT, number, 'mallory/widgets');
    },
    afterEach() {
      gitlab.assertNoViolations();
    },
    async close() {
      await gitlab.close();
      await git.close();
    },
  };
  return { env, gitlab, git, forge };
}

forgeContract(
  'GitLabForge (fake GitLab REST API, real git server, subgroup project)',
  async () => (await start()).env,
);

/** What only GitLab has: inherited membership, the bot flag, the encoded project path, threads' feedback. */
describe('GitLabForge on GitLab specifics', () => {
  let s: Started;
  before(async () => {
    s = await start();
  });
  after(async () => {
    await s?.env.close();
  });

  test('permission counts membership inherited from the project’s groups; Reporter is not enough', async () => {
    s.gitlab.addUser('gina');
    assert.equal(await s.forge.getPermission('gina'), 'none');
    s.gitlab.setGroupRole('acme', 'gina', 'developer');
    assert.equal(await s.forge.getPermission('gina'), 'write', 'Developer on the top group');
    s.gitlab.setGroupRole('acme/platform', 'gina', 'maintainer');
    assert.equal(await s.forge.getPermission('gina'), 'maintain', 'the higher of group and subgroup');
    s.gitlab.setRole(PROJECT, 'rex', 'reporter');
    assert.equal(await s.forge.getPermission('rex'), 'triage');
    s.gitlab.setRole(PROJECT, 'pia', 'planner');
    assert.equal(await s.forge.getPermission('pia'), 'read');
    const calls = s.gitlab.calls.filter((c) => c.endpoint === 'members/get-all');
    assert.ok(calls.every((c) => c.path.startsWith('/projects/acme%2Fplatform%2Fwidgets/members/all/')));
    s.gitlab.assertNoViolations();
  });

  test('team membership: inherited from parent groups counts; a blocked user or a group Forge cannot see does not', async () => {
    s.gitlab.addGroup('acme/qa');
    s.gitlab.setGroupRole('acme/qa', BOT, 'guest');
    s.gitlab.setGroupRole('acme', 'hana', 'developer');
    assert.equal(await s.forge.isTeamMember('acme/qa', 'hana'), true, 'a member of the parent group');
    s.gitlab.setGroupRole('acme/qa', 'ivo', 'guest');
    s.gitlab.user('ivo').state = 'blocked';
    assert.equal(await s.forge.isTeamMember('acme/qa', 'ivo'), false, 'a blocked user');
    s.gitlab.addGroup('other/secret');
    s.gitlab.setGroupRole('other/secret', 'jo', 'maintainer');
    assert.equal(await s.forge.isTeamMember('other/secret', 'jo'), false, 'a private group Forge cannot see');
    const calls = s.gitlab.calls.filter((c) => c.endpoint === 'group-members/get-all');
    assert.ok(calls.some((c) => c.path.startsWith('/groups/acme%2Fqa/members/all/')));
    assert.ok(
      calls.some((c) => c.path.startsWith('/groups/other%2Fsecret/members/all/') && c.status === 404),
    );
    s.gitlab.assertNoViolations();
  });

  test('Forge’s own user is looked up once (GET /user) and recognised by id', async () => {
    const before = s.gitlab.calls.filter((c) => c.endpoint === 'users/current').length;
    const self = s.env.selfActor;
    assert.equal(await s.forge.isBot(self), true);
    assert.equal(await s.forge.isBot({ ...self, login: 'renamed-bot' }), true, 'by id, whatever the name');
    assert.equal(await s.forge.isBot(self), true);
    assert.ok(s.gitlab.calls.filter((c) => c.endpoint === 'users/current').length - before <= 1);
    assert.equal(await s.forge.isBot({ login: 'project_77_bot_0a1b2c', id: 999_999, isBot: false }), true);
    s.gitlab.assertNoViolations();
  });

  test('the factory refuses a project whose clone URL is not on the instance (the token stays home)', async () => {
    const factory = new GitLabForgeFactory({ url: s.gitlab.url, token: 'glpat-secret' });
    await assert.rejects(
      factory.forRepo({ ...s.forge.repo, cloneUrl: `https://evil.example/${PROJECT}.git` }),
      /not on http:\/\/127\.0\.0\.1:\d+; Forge does not send its token there/,
    );
    // The git server's own port on the same host is another service: not the instance.
    await assert.rejects(
      factory.forRepo({ ...s.forge.repo, cloneUrl: s.git.cloneUrl(`${PROJECT}.git`) }),
      /Forge does not send its token there/,
    );
    assert.equal((await factory.forRepo(s.forge.repo)).kind, 'gitlab');
  });

  test('a new merge request is a draft by its title; editing the title keeps it a draft', async () => {
    const branch = `forge/draft-${Date.now()}`;
    await s.env.seedBranch(branch);
    const cr = await s.forge.createChangeRequest({
      head: branch,
      base: 'main',
      title: 'Add docs',
      body: 'Closes #1',
      draft: true,
    });
    assert.equal(s.gitlab.mergeRequest(PROJECT, cr.number).title, 'Draft: Add docs');
    await s.forge.updateChangeRequest(cr.number, { title: 'Add the docs' });
    assert.equal(s.gitlab.mergeRequest(PROJECT, cr.number).title, 'Draft: Add the docs');
    s.gitlab.assertNoViolations();
  });

  test('listReviewFeedback: unresolved threads with their notes, plain comments (Forge’s too), no system notes', async () => {
    const branch = `forge/feedback-${Date.now()}`;
    await s.env.seedBranch(branch);
    const cr = await s.forge.createChangeRequest({
      head: branch,
      base: 'main',
      title: 'F',
      body: 'b',
      draft: false,
    });
    const open = s.gitlab.startThread(PROJECT, cr.number, {
      body: 'Rename this.',
      author: 'alice',
      path: 'src/a.ts',
      line: 4,
    });
    s.gitlab.replyInThread(PROJECT, open.discussionId, { body: 'And add a test.', author: 'maya' });
    const done = s.gitlab.startThread(PROJECT, cr.number, { body: 'Typo.', author: 'alice' });
    s.gitlab.resolveThread(done.discussionId);
    s.gitlab.addNote(
      PROJECT,
      { type: 'merge_request', iid: cr.number },
      { body: 'Looks good overall.', author: 'maya' },
    );
    s.gitlab.addNote(
      PROJECT,
      { type: 'merge_request', iid: cr.number },
      { body: 'added 1 commit', author: 'alice', system: true },
    );
    await s.forge.postComment({ type: 'change_request', number: cr.number }, 'Forge progress');
    const feedback = await s.forge.listReviewFeedback(cr.number);
    assert.deepEqual(
      feedback.threads.map((t) => [t.threadId, t.path, t.line, t.comments.map((c) => [c.author, c.body])]),
      [
        [
          open.discussionId,
          'src/a.ts',
          4,
          [
            ['alice', 'Rename this.'],
            ['maya', 'And add a test.'],
          ],
        ],
      ],
    );
    assert.deepEqual(
      feedback.comments.map((c) => [c.author, c.body]),
      [
        ['maya', 'Looks good overall.'],
        [BOT, 'Forge progress'],
      ],
      'oldest first; callers filter out Forge’s own',
    );
    assert.deepEqual(feedback.reviews, []);
    assert.match(
      feedback.threads[0]!.comments[0]!.url ?? '',
      new RegExp(`/merge_requests/${cr.number}#note_`),
    );
    s.gitlab.assertNoViolations();
  });

  test('the strict fake refuses what GitLab would: undocumented attributes, unknown endpoints, running over running', async () => {
    const api = createGitLabClient({ url: s.gitlab.url, token: s.gitlab.issueToken(BOT) });
    await assert.rejects(api.mergeRequests.create(PROJECT, 'x', 'main', 't', { draft: true } as never));
    await assert.rejects(api.users.showCurrentUser({ sudo: undefined, bogus: 1 } as never));
    const branch = `forge/status-${Date.now()}`;
    const sha = await s.env.seedBranch(branch);
    await api.commits.editStatus(PROJECT, sha, 'running', { name: 'Forge', ref: branch });
    await assert.rejects(api.commits.editStatus(PROJECT, sha, 'running', { name: 'Forge', ref: branch }));
    const reasons = s.gitlab.takeViolations().map((v) => v.reason);
    assert.equal(reasons.length, 3, reasons.join('\n'));
    assert.match(reasons[0]!, /draft is not a documented attribute of POST \/projects\/:id\/merge_requests/);
    assert.match(reasons[1]!, /bogus is not a documented attribute/);
    assert.match(reasons[2]!, /Cannot transition status via :run from :running/);
    const res = await fetch(`${s.gitlab.url}/api/v4/projects/${encodeURIComponent(PROJECT)}/pipelines`, {
      headers: { 'private-token': s.gitlab.issueToken(BOT) },
    });
    assert.equal(res.status, 404);
    assert.match(s.gitlab.takeViolations()[0]!.reason, /undocumented: GET/);
  });
});

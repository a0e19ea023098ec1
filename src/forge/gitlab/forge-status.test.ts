import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { FakeGitLab } from '../../../test/kit/fake-gitlab/index.js';
import { GitLabForgeFactory } from './app.js';
import type { GitLabForge } from './forge.js';

/** Commit statuses and their task link, against the strict fake GitLab (which refuses a link over 255). */

const PROJECT = 'acme/platform/widgets';
const SHA = 'c'.repeat(40);
let gitlab: FakeGitLab;
let forge: GitLabForge;
const logs: { level: number; msg: string; length?: number; repo?: string }[] = [];

before(async () => {
  gitlab = await FakeGitLab.start({
    branchSha: (_p, branch) => (branch === 'main' ? SHA : undefined),
    branchesContaining: (_p, sha) => (sha === SHA ? ['main'] : []),
    commitExists: (_p, sha) => sha === SHA,
    fileAt: () => undefined,
  });
  gitlab.addProject(PROJECT);
  gitlab.addUser('forge-bot');
  gitlab.setRole(PROJECT, 'forge-bot', 'developer');
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  const factory = new GitLabForgeFactory({ url: gitlab.url, token: gitlab.issueToken('forge-bot'), log });
  forge = (await factory.forRepo({
    forge: 'gitlab',
    path: PROJECT,
    cloneUrl: `${gitlab.url}/${PROJECT}.git`,
    defaultBranch: 'main',
    webUrl: `${gitlab.url}/${PROJECT}`,
  })) as GitLabForge;
});
after(async () => {
  await gitlab.close();
});

const report = (detailsUrl: string, externalId: string) => ({
  sha: SHA,
  ref: 'main',
  status: 'completed' as const,
  conclusion: 'success' as const,
  title: 'Done',
  summary: '',
  detailsUrl,
  externalId,
});

test('a task link GitLab takes is the status’s target URL, without a word in the log', async () => {
  const link = `https://forge.example.com/tasks/${'a'.repeat(200)}`;
  await forge.reportCheck(report(link, 'short'));
  assert.equal(gitlab.statuses(PROJECT).at(-1)!.targetUrl, link);
  assert.deepEqual(
    logs.filter((l) => l.level >= 40),
    [],
  );
  gitlab.assertNoViolations();
});

test('a task link over 255 characters: the status is posted without it, and a warning says why', async () => {
  const link = `https://forge.example.com/${'very-long-prefix/'.repeat(15)}tasks/abc`;
  assert.ok(link.length > 255);
  await forge.reportCheck(report(link, 'long'));
  const status = gitlab.statuses(PROJECT).at(-1)!;
  assert.equal(status.status, 'success');
  assert.equal(status.targetUrl, null);
  const warnings = logs.filter((l) => l.level === 40);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.length, link.length);
  assert.equal(warnings[0]!.repo, PROJECT);
  assert.match(warnings[0]!.msg, /255 characters.*no link.*FORGE_PUBLIC_URL/);
  assert.ok(
    !JSON.stringify(warnings).includes('very-long-prefix'),
    'the link itself (it is signed) is not logged',
  );
  gitlab.assertNoViolations();
});

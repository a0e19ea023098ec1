import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  draftTitle,
  gitlabWords,
  isDraftTitle,
  mapAccessLevel,
  mapMergeRequest,
  onInstance,
  statusState,
  statusText,
} from './map.js';

test('access levels: Developer and above may act; Reporter, Planner, Guest, Minimal and blocked may not', () => {
  assert.equal(mapAccessLevel(50), 'admin');
  assert.equal(mapAccessLevel(40), 'maintain');
  assert.equal(mapAccessLevel(30), 'write');
  assert.equal(mapAccessLevel(20), 'triage');
  assert.equal(mapAccessLevel(15), 'read');
  assert.equal(mapAccessLevel(10), 'read');
  assert.equal(mapAccessLevel(5), 'none');
  assert.equal(mapAccessLevel(0), 'none');
  assert.equal(mapAccessLevel(40, 'blocked'), 'none');
  assert.equal(mapAccessLevel(40, 'awaiting'), 'none');
  assert.equal(mapAccessLevel(30, 'active'), 'write');
});

test('draft titles: GitLab’s three prefixes, added and removed without doubling', () => {
  for (const t of ['Draft: x', 'draft:x', '[Draft] x', '(DRAFT) x']) assert.ok(isDraftTitle(t), t);
  assert.ok(!isDraftTitle('Drafting the docs'));
  assert.equal(draftTitle('Add docs', true), 'Draft: Add docs');
  assert.equal(draftTitle('Draft: Add docs', true), 'Draft: Add docs');
  assert.equal(draftTitle('[Draft] Add docs', false), 'Add docs');
});

test('merge requests: iid, source branch and sha; a different source project is a fork', () => {
  const mr = {
    iid: 4,
    web_url: 'https://gitlab.example.com/g/s/p/-/merge_requests/4',
    state: 'opened',
    source_branch: 'forge/1-x',
    target_branch: 'main',
    source_project_id: 9,
    target_project_id: 9,
    sha: 'abc',
  };
  assert.deepEqual(mapMergeRequest(mr), {
    number: 4,
    url: mr.web_url,
    headBranch: 'forge/1-x',
    headSha: 'abc',
    baseBranch: 'main',
    isFork: false,
    state: 'open',
  });
  assert.equal(mapMergeRequest({ ...mr, source_project_id: 10 }).isFork, true);
  assert.equal(mapMergeRequest({ ...mr, state: 'merged' }).state, 'merged');
  assert.equal(mapMergeRequest({ ...mr, state: 'locked' }).state, 'closed');
});

test('commit status states follow GitLab’s state machine', () => {
  assert.equal(statusState({ status: 'queued' }, false), 'pending');
  assert.equal(statusState({ status: 'in_progress' }, false), 'running');
  assert.equal(statusState({ status: 'completed', conclusion: 'success' }, true), 'success');
  assert.equal(statusState({ status: 'completed', conclusion: 'failure' }, true), 'failed');
  assert.equal(statusState({ status: 'completed', conclusion: 'cancelled' }, true), 'canceled');
  assert.equal(statusState({ status: 'completed', conclusion: 'neutral' }, false), 'skipped');
  assert.equal(statusState({ status: 'completed' }, true), 'canceled', 'a running status cannot be skipped');
  assert.equal(statusText(`a\n\n${'b'.repeat(400)}`).length, 255);
});

test('words: merge requests are !n, issues #n, private commit emails on the instance host', () => {
  const words = gitlabWords('https://git.example.com/gitlab');
  assert.equal(words.changeRequestRef(3), '!3');
  assert.equal(words.issueRef(3), '#3');
  assert.equal(words.settingsPath, '.gitlab/forge.yml');
  assert.equal(words.noreplyEmail('jane.doe', 42), '42-jane.doe@users.noreply.git.example.com');
  assert.equal(words.unpushable, undefined, 'GitLab accepts CI changes from a Developer');
});

test('onInstance: the token only goes to the instance’s own scheme, host, port and path prefix', () => {
  assert.ok(onInstance('https://gitlab.com/g/s/p.git', 'https://gitlab.com'));
  assert.ok(
    onInstance('https://gitlab.com:443/g/p.git', 'https://gitlab.com'),
    'the default port, spelled out',
  );
  assert.ok(onInstance('https://gitlab.com/g/p.git', 'https://gitlab.com:443/'));
  assert.ok(onInstance('http://127.0.0.1:8000/g/p.git', 'http://127.0.0.1:8000'));
  assert.ok(onInstance('https://GitLab.Example.com/g/p.git', 'https://gitlab.example.com'), 'host case');
  assert.ok(onInstance('https://git.example.com/gitlab/g/p.git', 'https://git.example.com/gitlab'));
  assert.ok(onInstance('https://git.example.com/gitlab/g/p.git', 'https://git.example.com/gitlab/'));
  assert.ok(!onInstance('http://gitlab.com/g/p.git', 'https://gitlab.com'), 'cleartext HTTP');
  assert.ok(!onInstance('http://gitlab.com:443/g/p.git', 'https://gitlab.com'), 'cleartext HTTP on 443');
  assert.ok(!onInstance('https://gitlab.com:8443/g/p.git', 'https://gitlab.com'), 'another port');
  assert.ok(!onInstance('http://127.0.0.1:9000/g/p.git', 'http://127.0.0.1:8000'), 'another port');
  assert.ok(!onInstance('https://git.example.com/other/g/p.git', 'https://git.example.com/gitlab'));
  assert.ok(!onInstance('https://git.example.com/gitlab-evil/g/p.git', 'https://git.example.com/gitlab'));
  assert.ok(!onInstance('https://git.example.com/gitlab/../other/p.git', 'https://git.example.com/gitlab'));
  assert.ok(!onInstance('https://evil.example/g/p.git', 'https://gitlab.com'));
  assert.ok(!onInstance('https://gitlab.com.evil.example/g/p.git', 'https://gitlab.com'));
  assert.ok(!onInstance('file:///etc/passwd', 'https://gitlab.com'));
  assert.ok(!onInstance('not a url', 'https://gitlab.com'));
});

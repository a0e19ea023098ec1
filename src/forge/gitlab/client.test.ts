import assert from 'node:assert/strict';
import { test } from 'node:test';
// gitbeaker's own rate-limit code (a dependency of @gitbeaker/rest), so the test matches as it does.
import { createRateLimiters, getMatchingRateLimiter, type RateLimiters } from '@gitbeaker/requester-utils';
import { ENDPOINTS } from '../../../test/kit/fake-gitlab/endpoints.js';
import { matchEndpoint } from '../../../test/kit/fake-gitlab/validate.js';
import {
  createGitLabClient,
  EVERY_ENDPOINT,
  GITLAB_COM_LIMITS,
  GITLAB_RATE_LIMITS,
  type GitLabClient,
  gitlabRateLimits,
} from './client.js';

type Rule = keyof typeof GITLAB_RATE_LIMITS;
type Resource = keyof GitLabClient;

const GENERAL: Rule = EVERY_ENDPOINT;
const P = 'acme/platform/widgets';

/**
 * Every call Forge makes (forge.ts, feedback.ts, app.ts), with the rule meant to limit it. Listing
 * notes shares the note rule with creating them: gitbeaker cannot tell methods apart on one path.
 */
const CALLS: [Resource, (api: GitLabClient) => Promise<unknown>, Rule][] = [
  ['users', (api) => api.users.showCurrentUser(), GENERAL],
  ['users', (api) => api.users.all({ username: 'alice' }), GENERAL],
  ['users', (api) => api.users.show(7), GENERAL],
  ['members', (api) => api.members.show(P, 7, { includeInherited: true }), GENERAL],
  ['groupMembers', (api) => api.groupMembers.show('acme/platform', 7, { includeInherited: true }), GENERAL],
  ['issues', (api) => api.issues.show(1, { projectId: P }), GENERAL],
  ['issueNotes', (api) => api.issueNotes.all(P, 1, { perPage: 100 }), '*/issues/*/notes'],
  ['issueNotes', (api) => api.issueNotes.create(P, 1, 'hi'), '*/issues/*/notes'],
  ['issueNotes', (api) => api.issueNotes.edit(P, 1, 2, { body: 'hi' }), GENERAL],
  [
    'mergeRequestNotes',
    (api) => api.mergeRequestNotes.all(P, 1, { perPage: 100 }),
    '*/merge_requests/*/notes',
  ],
  ['mergeRequestNotes', (api) => api.mergeRequestNotes.create(P, 1, 'hi'), '*/merge_requests/*/notes'],
  ['mergeRequestNotes', (api) => api.mergeRequestNotes.edit(P, 1, 2, { body: 'hi' }), GENERAL],
  ['issueNoteEmojis', (api) => api.issueNoteEmojis.award(P, 1, 2, 'eyes'), GENERAL],
  ['mergeRequestNoteEmojis', (api) => api.mergeRequestNoteEmojis.award(P, 1, 2, 'eyes'), GENERAL],
  ['discussions', (api) => api.discussions.all(P, 1), GENERAL],
  [
    'discussions',
    (api) => api.discussions.addNote(P, 1, 'a1b2', 'hi'),
    '*/merge_requests/*/discussions/*/notes',
  ],
  ['mergeRequests', (api) => api.mergeRequests.all({ projectId: P, sourceBranch: 'forge/1-x' }), GENERAL],
  ['mergeRequests', (api) => api.mergeRequests.show(P, 1), GENERAL],
  ['mergeRequests', (api) => api.mergeRequests.create(P, 'forge/1-x', 'main', 'T'), GENERAL],
  ['mergeRequests', (api) => api.mergeRequests.edit(P, 1, { title: 'T' }), GENERAL],
  ['branches', (api) => api.branches.show(P, 'forge/1-x'), GENERAL],
  // A path segment starting with a dot, which `**` does not match.
  ['files', (api) => api.files.showRaw(P, '.gitlab/forge.yml', 'main'), GENERAL],
  ['files', (api) => api.files.showRaw(P, 'src/index.js', 'main'), GENERAL],
  ['commits', (api) => api.commits.editStatus(P, 'a'.repeat(40), 'running', { name: 'Forge' }), GENERAL],
];

interface Sent {
  resource: Resource;
  method: string;
  /** What gitbeaker matches rules against: the path after the resource's own prefix. */
  endpoint: string;
  /** The path after `/api/v4`, as GitLab receives it. */
  path: string;
}

/** The real client, its requesters swapped for ones that record what would be sent and answer empty. */
function recordingClient(): { api: GitLabClient; sent: Sent[] } {
  const api = createGitLabClient({ url: 'https://gitlab.example.com', token: 'glpat-test' });
  const sent: Sent[] = [];
  for (const [name, resource] of Object.entries(api) as [Resource, { url: string; requester: unknown }][]) {
    const record = (method: string) => async (endpoint: string) => {
      const path = new URL(endpoint, `${resource.url.replace(/\/$/, '')}/`).pathname.replace(
        /^\/api\/v4/,
        '',
      );
      sent.push({ resource: name, method, endpoint, path });
      return { body: method === 'GET' ? [] : {}, headers: {}, status: 200 };
    };
    resource.requester = {
      get: record('GET'),
      post: record('POST'),
      put: record('PUT'),
      delete: record('DELETE'),
    };
  }
  return { api, sent };
}

/** The limiter a rule gives each resource (gitbeaker keeps one set per resource). */
function limiterOf(limiters: RateLimiters, rule: Rule) {
  const entry = limiters[rule];
  return typeof entry === 'function' ? entry : entry?.limit;
}

test('every call Forge makes is limited by the rule meant for it (none escapes the budget)', async () => {
  const { api, sent } = recordingClient();
  const limiters = createRateLimiters(GITLAB_RATE_LIMITS, 60);
  for (const [resource, call, rule] of CALLS) {
    const before = sent.length;
    await call(api);
    const [request] = sent.slice(before);
    assert.ok(request && sent.length === before + 1, `one request per call on ${resource}`);
    const limiter = getMatchingRateLimiter(request.endpoint, limiters, request.method);
    const found = (Object.keys(GITLAB_RATE_LIMITS) as Rule[]).find((r) => limiterOf(limiters, r) === limiter);
    assert.equal(
      found ?? 'no rule: a fresh limiter for this request alone, i.e. unlimited',
      rule,
      `${resource}: ${request.method} ${request.endpoint}`,
    );
  }
});

test('the calls cover every endpoint of the fake GitLab (which refuses any other)', async () => {
  const { api, sent } = recordingClient();
  for (const [, call] of CALLS) await call(api);
  const covered = new Set(
    sent.map((s) => {
      const match = matchEndpoint(s.method, s.path);
      assert.ok(match && 'def' in match, `${s.method} ${s.path} is not in the fake's table`);
      return match.def.name;
    }),
  );
  assert.deepEqual(
    ENDPOINTS.map((e) => e.name).filter((name) => !covered.has(name)),
    [],
    'add the calls for these endpoints to CALLS',
  );
});

for (const limits of [
  GITLAB_COM_LIMITS,
  { requestsPerMinute: 7200, notesPerMinute: 300 },
  { requestsPerMinute: 300, notesPerMinute: 10 },
]) {
  test(`the budget stays under ${limits.requestsPerMinute} requests and ${limits.notesPerMinute} new notes a minute per process`, async () => {
    const rules = gitlabRateLimits(limits);
    const { api, sent } = recordingClient();
    // Each resource has its own limiters: count each limit a resource's calls reach once.
    const all = new Map<string, number>();
    const noteCreation = new Map<string, number>();
    for (const [resource, call, rule] of CALLS) {
      const before = sent.length;
      await call(api);
      const request = sent[before]!;
      all.set(`${resource} ${rule}`, rules[rule]);
      if (request.method === 'POST' && request.path.endsWith('/notes'))
        noteCreation.set(`${resource} ${rule}`, rules[rule]);
    }
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    assert.equal(noteCreation.size, 3, 'issue notes, merge request notes, thread replies');
    assert.equal(new Set(CALLS.map(([r]) => r)).size, Object.keys(api).length, 'every resource is counted');
    assert.ok(sum(all) <= limits.requestsPerMinute, `${sum(all)} requests a minute`);
    assert.ok(sum(noteCreation) <= limits.notesPerMinute, `${sum(noteCreation)} new notes a minute`);
    assert.ok(
      Object.values(rules).every((n) => n >= 1),
      'every rule lets requests through',
    );
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GitbeakerRequestError } from '@gitbeaker/rest';
import { gitlabWords } from '../forge/gitlab/map.js';
import { SandboxError, type SandboxErrorCode } from '../sandbox/types.js';
import { explainError } from './explain.js';

test('a refusal is explained in the host’s terms, with Octokit’s and gitbeaker’s error shapes', () => {
  const octokit = Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
  assert.match(explainError(octokit), /HTTP 403\). Check that the App is installed/);
  const gitbeaker = new GitbeakerRequestError('403 Forbidden', {
    cause: {
      description: '403 Forbidden',
      request: new Request('http://x/'),
      response: new Response('', { status: 403 }),
    },
  });
  const words = gitlabWords('https://gitlab.example.com');
  const explained = explainError(gitbeaker, words);
  assert.match(explained, /HTTP 403\)/);
  assert.match(explained, /GITLAB_TOKEN.*`api` scope/);
  assert.match(explainError(new Error('fatal: Authentication failed for ...'), words), /GITLAB_TOKEN/);
});

test('each sandbox failure is explained with what an operator can do about it', () => {
  const cases: [SandboxErrorCode, RegExp][] = [
    ['engine_unreachable', /could not reach its container engine .*check the Docker host/],
    ['image_missing', /agent image is missing .*build or pull it/],
    ['out_of_memory', /ran out of memory .*FORGE_SANDBOX_MEMORY_MB/],
    ['invalid_options', /sandbox settings are not usable/],
    ['exec_failed', /could not run a command in the agent's container/],
    ['start_failed', /The sandbox could not start/],
  ];
  for (const [code, expected] of cases) {
    const explained = explainError(new SandboxError(code, 'details for the operator'));
    assert.match(explained, expected, code);
    assert.match(explained, /details for the operator/, `${code} keeps the engine's own message`);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GitbeakerRequestError } from '@gitbeaker/rest';
import { gitlabWords } from '../forge/gitlab/map.js';
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

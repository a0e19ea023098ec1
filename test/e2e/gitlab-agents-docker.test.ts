import { describe } from 'node:test';
import { useDockerEngine } from '../kit/docker.js';
import { AGENTS, defineRealAgentScenarios } from './agent-runs.js';
import { startGitLabDriver } from './driver-gitlab.js';

/**
 * A real agent CLI (Claude Code) end to end on GitLab, with the scenarios agents-docker.test.ts runs
 * on GitHub: a note → the CLI in a hardened container → an MR with its summary and usage, no secret
 * (GITLAB_TOKEN, the webhook secret) in its environment, and a follow-up on the MR resuming its session.
 */
const use = await useDockerEngine();

describe('a real agent CLI in a hardened container, end to end on GitLab', { skip: use.skip }, () => {
  defineRealAgentScenarios(
    use,
    startGitLabDriver,
    AGENTS.filter((a) => a.agent === 'claude-code'),
  );
});

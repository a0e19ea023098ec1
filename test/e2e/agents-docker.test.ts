import { describe } from 'node:test';
import { useDockerEngine } from '../kit/docker.js';
import { AGENTS, defineRealAgentScenarios } from './agent-runs.js';
import { startGitHubDriver } from './driver-github.js';

/** Each of the four real agent CLIs, end to end on GitHub (agent-runs.ts says what is proven). */
const use = await useDockerEngine();

describe('real agent CLIs in hardened containers, end to end', { skip: use.skip }, () => {
  defineRealAgentScenarios(use, startGitHubDriver, AGENTS);
});

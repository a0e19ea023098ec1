import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { DockerEngineUse } from '../kit/docker.js';
import { ensureAgentImage } from '../kit/docker-builds.js';
import { anthropicProtocol } from '../kit/fake-model/protocols/anthropic.js';
import { geminiProtocol } from '../kit/fake-model/protocols/gemini.js';
import { openaiChatProtocol } from '../kit/fake-model/protocols/openai-chat.js';
import { openaiResponsesProtocol } from '../kit/fake-model/protocols/openai-responses.js';
import { type FakeModel, startFakeModel } from '../kit/fake-model/server.js';
import type { Protocol, RecordedRequest } from '../kit/fake-model/types.js';
import { type ForgeDriver, onChangeRequest, onIssue, type StartDriver, useDriver } from './driver.js';

/**
 * Issue 3's "done when", for a real agent CLI on either forge: a `/forge` comment → the real CLI
 * from npm, in a hardened container of the agent image built from docker/Dockerfile.agent → a
 * scripted edit → a commit on a change request whose body carries the agent's summary and the
 * token usage. The CLI reaches its (scripted, strict) model only through Forge's model gateway, and
 * never sees a secret: its shell dumps the environment into the checkout, and the test scans what
 * was pushed.
 */

const KEYS = {
  anthropic: `sk-ant-api03-${'RealAnthropicKeyForE2E'.repeat(3)}`,
  openai: `sk-proj-${'RealOpenAIKeyForE2E'.repeat(3)}`,
  gemini: `AIzaSy${'RealGeminiKeyForE2E'.repeat(2)}`,
};
const MARKER = 'FORGE-INSTRUCTIONS-7731';

export interface AgentCase {
  agent: string;
  protocol: Protocol;
  /** The provider key a request carried. */
  auth(r: RecordedRequest): string | undefined;
}

export const AGENTS: readonly AgentCase[] = [
  { agent: 'claude-code', protocol: 'anthropic', auth: (r) => header(r, 'x-api-key') },
  {
    agent: 'codex',
    protocol: 'openai-responses',
    auth: (r) => header(r, 'authorization')?.replace(/^Bearer /, ''),
  },
  { agent: 'gemini', protocol: 'gemini', auth: (r) => header(r, 'x-goog-api-key') },
  {
    agent: 'opencode',
    protocol: 'openai-chat',
    auth: (r) => header(r, 'authorization')?.replace(/^Bearer /, ''),
  },
];
const KEY_OF: Record<Protocol, string> = {
  anthropic: KEYS.anthropic,
  'openai-responses': KEYS.openai,
  'openai-chat': KEYS.openai,
  gemini: KEYS.gemini,
};

function header(r: RecordedRequest, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Defines, inside a `describe` skipped when `use.skip`, per agent: a first turn from an issue
 * comment, then a follow-up on the change request that resumes the CLI's session.
 */
export function defineRealAgentScenarios(
  use: DockerEngineUse,
  start: StartDriver,
  agents: readonly AgentCase[],
): void {
  let model: FakeModel | undefined;
  let image = '';
  const driver = useDriver(start, {
    before: async () => {
      image = await ensureAgentImage(use.engine!.docker);
      model = await startFakeModel({
        protocols: [anthropicProtocol, openaiResponsesProtocol, geminiProtocol, openaiChatProtocol],
      });
    },
    env: () => ({
      FORGE_SANDBOX: 'docker',
      DOCKER_HOST: use.engine!.host,
      FORGE_AGENT_IMAGE: image,
      // Tests only: the container shares the host's loopback to reach the gateway.
      FORGE_SANDBOX_NETWORK: 'host',
      FORGE_SANDBOX_MEMORY_MB: '2048',
      FORGE_AGENT: 'claude-code',
      FORGE_ALLOWED_AGENTS: 'codex,gemini,opencode',
      FORGE_AGENT_MODELS: 'codex=gpt-5.5,opencode=gpt-4.1,gemini=gemini-2.5-flash',
      ANTHROPIC_BASE_URL: model!.url,
      ANTHROPIC_API_KEY: KEYS.anthropic,
      OPENAI_BASE_URL: `${model!.url}/v1`,
      OPENAI_API_KEY: KEYS.openai,
      GOOGLE_GEMINI_BASE_URL: model!.url,
      GEMINI_API_KEY: KEYS.gemini,
      FORGE_TURN_TIMEOUT: '5m',
    }),
    extraChecks: () => model?.assertNoViolations(),
  });
  after(async () => {
    await model?.close();
  });
  let seeded = false;
  /** The instruction files each CLI reads on its own, pushed once. */
  const seed = async (d: ForgeDriver) => {
    if (seeded) return;
    seeded = true;
    const files = ['AGENTS.md', 'CLAUDE.md', 'GEMINI.md'].map((f) => [
      f,
      `# Working here\n\n${MARKER}: keep it short.\n`,
    ]);
    await d.git.pushAs(d.gitRepo, 'main', Object.fromEntries(files), 'Agent instructions');
  };
  /** The issue each agent's first test worked on. */
  const issues = new Map<string, number>();

  for (const c of agents) {
    test(`${c.agent}: a /forge comment becomes a change request made by the real CLI, which never saw a secret`, async () => {
      const d = driver();
      await seed(d);
      issues.set(c.agent, await firstTurn(d, model!, use, c));
    });
  }
  for (const { agent } of agents) {
    test(`${agent}: a follow-up on the change request resumes the CLI's session`, async () => {
      const issue = issues.get(agent);
      assert.ok(issue, 'the first test of this agent ran');
      await resumedTurn(driver(), model!, agent, issue);
    });
  }
}

async function firstTurn(
  d: ForgeDriver,
  model: FakeModel,
  use: DockerEngineUse,
  c: AgentCase,
): Promise<number> {
  const { agent, protocol, auth } = c;
  const issue = d.newIssue(`Notes from ${agent}`);
  const seen = model.requests.length;
  const file = `NOTES-${agent}.md`;
  await d.ask(
    onIssue(issue),
    `/forge --agent ${agent} [[write:${file}:hello from ${agent}]] [[shell:env > env-dump.txt]] [[say:Wrote ${file} for the team]]`,
  );
  const task = await d.settled(onIssue(issue), 1, 240_000);
  const turn = task.turns[0]!;
  assert.equal(turn.state, 'completed', turn.error);
  assert.equal(turn.options.agent, agent);

  const requests = model.requests.slice(seen);
  assert.ok(requests.length >= 3, `${agent} made its model requests (${requests.length})`);
  for (const r of requests) {
    assert.equal(r.protocol, protocol);
    assert.equal(auth(r), KEY_OF[protocol], 'the provider saw the real key, swapped in by the gateway');
  }
  assert.ok(
    requests.some((r) => JSON.stringify(r.exchange.messages).includes(MARKER)),
    "the repository's instruction file reached the model",
  );

  // The commit on the change request: the scripted edit, made by the CLI in the container.
  const branch = task.branch!;
  assert.equal((await d.git.fileAt(d.gitRepo, branch, file))?.trim(), `hello from ${agent}`);
  const cr = d.changeRequests().find((p) => p.branch === branch);
  assert.ok(cr, 'a change request was opened');
  assert.equal(task.changeRequest?.number, cr.number);
  assert.match(cr.body, new RegExp(`Wrote ${file} for the team`), "the agent's summary is in the body");

  // Usage as the gateway measured it: exactly what the model served.
  const served = requests.reduce(
    (sum, r) => ({
      inputTokens: sum.inputTokens + r.usage.inputTokens,
      outputTokens: sum.outputTokens + r.usage.outputTokens,
    }),
    { inputTokens: 0, outputTokens: 0 },
  );
  assert.equal(turn.usage?.inputTokens, served.inputTokens);
  assert.equal(turn.usage?.outputTokens, served.outputTokens);
  assert.match(cr.body, /🪙 .*tokens in/, 'the token usage is in the body');
  assert.ok(task.sessions?.[agent], 'the session id is kept on the task');
  assert.deepEqual(
    d.checks(turn.commitSha!).map((x) => x.state),
    ['success'],
  );

  // The agent's environment, as its own shell saw it, pushed for everyone to read: no secret.
  const dump = await d.git.fileAt(d.gitRepo, branch, 'env-dump.txt');
  assert.ok(dump && /HOME=/.test(dump), 'the shell dumped its environment');
  const secrets = [...Object.values(KEYS), ...d.secrets()];
  assert.ok(d.secrets().length >= 2, 'the forge credentials are known to the scan');
  for (const secret of secrets) assert.ok(!dump.includes(secret), 'no secret inside the container');
  assert.doesNotMatch(dump, /REDIS_URL|WEBHOOK_SECRET|PRIVATE_KEY|GITHUB_TOKEN|GITLAB_TOKEN/);

  // No container is left behind.
  const left = await use.engine!.docker.listContainers({
    all: true,
    filters: { label: [`forge.task=${task.id}`] },
  });
  assert.deepEqual(left, [], 'the turn container was removed');
  return issue;
}

async function resumedTurn(d: ForgeDriver, model: FakeModel, agent: string, issue: number): Promise<void> {
  const first = await d.settled(onIssue(issue));
  const cr = first.changeRequest?.number;
  assert.ok(cr);
  const seen = model.requests.length;
  await d.ask(
    onChangeRequest(cr),
    `/forge --agent ${agent} [[write:MORE-${agent}.md:more]] [[say:Added MORE-${agent}.md]]`,
  );
  const task = await d.settled(onIssue(issue), 2, 240_000);
  const turn = task.turns[1]!;
  assert.equal(turn.state, 'completed', turn.error);
  assert.equal(task.branch, first.branch, 'same branch');
  assert.equal((await d.git.fileAt(d.gitRepo, task.branch!, `MORE-${agent}.md`))?.trim(), 'more');
  const resumed = model.requests.slice(seen)[0];
  assert.ok(resumed);
  // A prompt can carry text, never the structured tool calls of the earlier turn: only a resumed
  // session sends them back.
  assert.ok(
    resumed.exchange.messages.some((m) => m.role === 'assistant' && m.toolCall),
    'the first request of turn 2 carries turn 1 (a resumed session)',
  );
  assert.ok(task.sessions?.[agent]);
}

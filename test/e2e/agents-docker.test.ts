import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { useDockerEngine } from '../kit/docker.js';
import { ensureAgentImage } from '../kit/docker-builds.js';
import { anthropicProtocol } from '../kit/fake-model/protocols/anthropic.js';
import { geminiProtocol } from '../kit/fake-model/protocols/gemini.js';
import { openaiChatProtocol } from '../kit/fake-model/protocols/openai-chat.js';
import { openaiResponsesProtocol } from '../kit/fake-model/protocols/openai-responses.js';
import { type FakeModel, startFakeModel } from '../kit/fake-model/server.js';
import type { Protocol, RecordedRequest } from '../kit/fake-model/types.js';
import { type Harness, REPO, SECRET, startHarness } from './harness.js';

/**
 * Issue 3's "done when", for each of the four agents: a `/forge` comment → the real CLI from npm,
 * in a hardened container of the agent image built from docker/Dockerfile.agent → a scripted edit
 * → a commit on a pull request whose body carries the agent's summary and the token usage. The
 * CLI reaches its (scripted, strict) model only through Forge's model gateway, and never sees a
 * secret: its shell dumps the environment into the checkout, and the test scans what was pushed.
 */
const use = await useDockerEngine();

const KEYS = {
  anthropic: `sk-ant-api03-${'RealAnthropicKeyForE2E'.repeat(3)}`,
  openai: `sk-proj-${'RealOpenAIKeyForE2E'.repeat(3)}`,
  gemini: `AIzaSy${'RealGeminiKeyForE2E'.repeat(2)}`,
};
const MARKER = 'FORGE-INSTRUCTIONS-7731';

const AGENTS: { agent: string; protocol: Protocol; auth(r: RecordedRequest): string | undefined }[] = [
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

describe('real agent CLIs in hardened containers, end to end', { skip: use.skip }, () => {
  let h: Harness;
  let model: FakeModel;
  /** The issue each agent's first test worked on. */
  const issues = new Map<string, number>();

  before(async () => {
    const engine = use.engine!;
    const image = await ensureAgentImage(engine.docker);
    model = await startFakeModel({
      protocols: [anthropicProtocol, openaiResponsesProtocol, geminiProtocol, openaiChatProtocol],
    });
    h = await startHarness({
      env: {
        FORGE_SANDBOX: 'docker',
        DOCKER_HOST: engine.host,
        FORGE_AGENT_IMAGE: image,
        // Tests only: the container shares the host's loopback to reach the gateway.
        FORGE_SANDBOX_NETWORK: 'host',
        FORGE_SANDBOX_MEMORY_MB: '2048',
        FORGE_AGENT: 'claude-code',
        FORGE_ALLOWED_AGENTS: 'codex,gemini,opencode',
        FORGE_AGENT_MODELS: 'codex=gpt-5.5,opencode=gpt-4.1,gemini=gemini-2.5-flash',
        ANTHROPIC_BASE_URL: model.url,
        ANTHROPIC_API_KEY: KEYS.anthropic,
        OPENAI_BASE_URL: `${model.url}/v1`,
        OPENAI_API_KEY: KEYS.openai,
        GOOGLE_GEMINI_BASE_URL: model.url,
        GEMINI_API_KEY: KEYS.gemini,
        FORGE_TURN_TIMEOUT: '5m',
      },
    });
    // The instruction files each CLI reads on its own.
    await h.git.pushAs(
      `${REPO}.git`,
      'main',
      Object.fromEntries(
        ['AGENTS.md', 'CLAUDE.md', 'GEMINI.md'].map((f) => [
          f,
          `# Working here\n\n${MARKER}: keep it short.\n`,
        ]),
      ),
      'Agent instructions',
    );
  });
  after(async () => {
    await h?.close();
    await model?.close();
  });
  afterEach(() => {
    h.github.assertNoViolations();
    model.assertNoViolations();
  });

  for (const { agent, protocol, auth } of AGENTS) {
    test(`${agent}: a /forge comment becomes a PR made by the real CLI, which never saw a secret`, async () => {
      const issue = h.newIssue(`Notes from ${agent}`);
      issues.set(agent, issue);
      const seen = model.requests.length;
      const file = `NOTES-${agent}.md`;
      await h.comment({
        number: issue,
        body: `/forge --agent ${agent} [[write:${file}:hello from ${agent}]] [[shell:env > env-dump.txt]] [[say:Wrote ${file} for the team]]`,
      });
      const task = await h.settled(issue, 1, 240_000);
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

      // The commit on the PR: the scripted edit, made by the CLI in the container.
      const branch = task.branch!;
      assert.equal((await h.git.fileAt(`${REPO}.git`, branch, file))?.trim(), `hello from ${agent}`);
      const pull = h.github.pulls(REPO).find((p) => p.head === branch);
      assert.ok(pull, 'a pull request was opened');
      assert.match(
        pull.body ?? '',
        new RegExp(`Wrote ${file} for the team`),
        "the agent's summary is in the body",
      );

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
      assert.match(pull.body ?? '', /🪙 .*tokens in/, 'the token usage is in the body');
      assert.ok(task.sessions?.[agent], 'the session id is kept on the task');

      // The agent's environment, as its own shell saw it, pushed for everyone to read: no secret.
      const dump = await h.git.fileAt(`${REPO}.git`, branch, 'env-dump.txt');
      assert.ok(dump && /HOME=/.test(dump), 'the shell dumped its environment');
      const secrets = [
        ...Object.values(KEYS),
        SECRET,
        h.github.privateKeyPem.split('\n')[1]!,
        ...h.github.issuedTokens().map((t) => t.token),
      ];
      for (const secret of secrets) assert.ok(!dump.includes(secret), 'no secret inside the container');
      assert.doesNotMatch(dump, /REDIS_URL|WEBHOOK_SECRET|PRIVATE_KEY|GITHUB_TOKEN|GITLAB_TOKEN/);

      // No container is left behind.
      const left = await use.engine!.docker.listContainers({
        all: true,
        filters: { label: [`forge.task=${task.id}`] },
      });
      assert.deepEqual(left, [], 'the turn container was removed');
    });
  }

  for (const { agent } of AGENTS) {
    test(`${agent}: a follow-up on the PR resumes the CLI's session`, async () => {
      const issue = issues.get(agent);
      assert.ok(issue, 'the first test of this agent ran');
      const first = await h.settled(issue);
      const pr = first.changeRequest?.number;
      assert.ok(pr);
      const seen = model.requests.length;
      await h.comment({
        number: pr,
        body: `/forge --agent ${agent} [[write:MORE-${agent}.md:more]] [[say:Added MORE-${agent}.md]]`,
      });
      const task = await h.settled(issue, 2, 240_000);
      const turn = task.turns[1]!;
      assert.equal(turn.state, 'completed', turn.error);
      assert.equal(task.branch, first.branch, 'same branch');
      assert.equal((await h.git.fileAt(`${REPO}.git`, task.branch!, `MORE-${agent}.md`))?.trim(), 'more');
      const resumed = model.requests.slice(seen)[0];
      assert.ok(resumed);
      // A prompt can carry text, never the structured tool calls of the earlier turn: only a resumed
      // session sends them back.
      assert.ok(
        resumed.exchange.messages.some((m) => m.role === 'assistant' && m.toolCall),
        'the first request of turn 2 carries turn 1 (a resumed session)',
      );
      assert.ok(task.sessions?.[agent]);
    });
  }
});

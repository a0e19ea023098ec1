/**
 * Re-records test/fixtures/agent-streams/{claude-code,codex}-*.jsonl: the real CLIs (pinned, from
 * .cache/agent-clis) run by their Forge runners against the fake model, and their stdout saved line
 * by line. Run after bumping a CLI pin, then check the parser tests:
 *
 *   npx tsx test/kit/record-streams-claude-codex.ts [claude-code] [codex]
 *
 * Each CLI records: `edit` (a scripted write + shell command), `resume` (a later turn resuming that
 * session), `error` (the model API refusing the credentials with 401).
 */
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClaudeCodeAgent } from '../../src/agents/claude-code.js';
import { CodexAgent } from '../../src/agents/codex.js';
import type { AgentRunner } from '../../src/agents/types.js';
import { startHarness, type TurnRun } from './cli-agent-harness.js';
import { anthropicProtocol } from './fake-model/protocols/anthropic.js';
import { openaiResponsesProtocol } from './fake-model/protocols/openai-responses.js';
import { startFakeModel } from './fake-model/server.js';

const FIXTURES = resolve(fileURLToPath(new URL('../fixtures/agent-streams', import.meta.url)));

const EDIT_PROMPT =
  'Add a greeting module. [[write:src/greeting.txt:Hello, Forge!]] [[shell:ls src > listing.txt]] ' +
  '[[say:Added src/greeting.txt and listed src/ into listing.txt.]]';
const RESUME_PROMPT =
  'Now record the date. [[shell:echo resumed >> listing.txt]] [[say:Appended to listing.txt.]]';

interface Recorder {
  cli: 'claude' | 'codex';
  agent: AgentRunner;
  /** A runner that gives up after one retry, for the error recording. */
  quickAgent: AgentRunner;
  refusal: { status: number; body: unknown };
  modelOverride(refusingUrl: string): { anthropicBaseUrl?: string; openaiBaseUrl?: string };
}

const recorders: Record<string, Recorder> = {
  'claude-code': {
    cli: 'claude',
    agent: new ClaudeCodeAgent(),
    quickAgent: new ClaudeCodeAgent({ env: { CLAUDE_CODE_MAX_RETRIES: '1' } }),
    refusal: {
      status: 401,
      body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
    },
    modelOverride: (url) => ({ anthropicBaseUrl: url }),
  },
  codex: {
    cli: 'codex',
    agent: new CodexAgent(),
    quickAgent: new CodexAgent({ extraArgs: ['-c', 'model_providers.forge.stream_max_retries=1'] }),
    refusal: {
      status: 401,
      body: {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    },
    modelOverride: (url) => ({ openaiBaseUrl: `${url}/v1` }),
  },
};

async function record(name: string, recorder: Recorder): Promise<void> {
  const fake = await startFakeModel({ protocols: [anthropicProtocol, openaiResponsesProtocol] });
  const harness = await startHarness({ cli: recorder.cli, modelUrl: fake.url, label: `record-${name}` });
  const refusing = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res
        .writeHead(recorder.refusal.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(recorder.refusal.body)),
    );
  });
  await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
  const refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  try {
    const checkoutDir = await harness.checkout({ 'src/.keep': '' });
    const edit = await harness.runTurn(recorder.agent, { prompt: EDIT_PROMPT }, { checkoutDir });
    await save(`${name}-edit.jsonl`, edit);
    const next = await harness.nextCheckout(checkoutDir);
    const resumeRun = await harness.runTurn(
      recorder.agent,
      { prompt: RESUME_PROMPT, ...(edit.result.sessionId ? { sessionId: edit.result.sessionId } : {}) },
      { checkoutDir: next },
    );
    await save(`${name}-resume.jsonl`, resumeRun);
    const error = await harness.runTurn(
      recorder.quickAgent,
      { prompt: 'Anything. [[say:never]]' },
      { model: recorder.modelOverride(refusingUrl) },
    );
    await save(`${name}-error.jsonl`, error);
    fake.assertNoViolations();
    console.log(
      `${name}: edit ${edit.result.conclusion}, resume ${resumeRun.result.conclusion}, error ${error.result.conclusion}`,
    );
  } finally {
    refusing.closeAllConnections();
    refusing.close();
    await fake.close();
    await harness.close();
  }
}

async function save(file: string, run: TurnRun): Promise<void> {
  const stdout = run.lines.filter(([stream]) => stream === 'stdout').map(([, line]) => line);
  if (stdout.some((line) => line.includes(run.token))) throw new Error(`${file}: the token reached stdout`);
  await writeFile(join(FIXTURES, file), `${stdout.join('\n')}\n`);
}

const wanted = process.argv.slice(2);
for (const [name, recorder] of Object.entries(recorders)) {
  if (wanted.length === 0 || wanted.includes(name)) await record(name, recorder);
}

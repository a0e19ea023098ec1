/**
 * Re-records test/fixtures/agent-streams/<cli>-{edit,resume,error}.jsonl: the real CLIs (pinned,
 * from .cache/agent-clis) run by their Forge runners against the fake model, stdout saved line by
 * line. Run after bumping a CLI pin, then run the parser tests (src/agents/*-stream.test.ts):
 *
 *   npx tsx test/kit/record-agent-streams.ts [--out DIR] [claude-code] [codex] [gemini] [opencode]
 *
 * Each CLI records `edit` (a scripted file write and shell command), `resume` (the next turn,
 * resuming that session) and `error` (the model API refusing the credentials with 401). Gemini CLI
 * also leaves its own session log after the edit (gemini-session-log.jsonl, for the resume-repair
 * tests).
 */
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ClaudeCodeAgent } from '../../src/agents/claude-code.js';
import { CodexAgent } from '../../src/agents/codex.js';
import { GeminiAgent } from '../../src/agents/gemini.js';
import { OpenCodeAgent } from '../../src/agents/opencode.js';
import type { AgentRunner, ModelAccess } from '../../src/agents/types.js';
import type { CliName } from './agent-clis.js';
import { type AgentHarness, startAgentHarness, startRefusingModel, type Turn } from './agent-harness.js';
import { AGENT_STREAMS_DIR } from './agent-streams.js';
import { anthropicProtocol } from './fake-model/protocols/anthropic.js';
import { geminiProtocol } from './fake-model/protocols/gemini.js';
import { openaiChatProtocol } from './fake-model/protocols/openai-chat.js';
import { openaiResponsesProtocol } from './fake-model/protocols/openai-responses.js';
import type { ProtocolModule } from './fake-model/types.js';

const EDIT_PROMPT =
  'Add a greeting module. [[write:src/greeting.txt:Hello, Forge!]] [[shell:ls src > listing.txt]] ' +
  '[[say:Added src/greeting.txt and listed src/ into listing.txt.]]';
const RESUME_PROMPT =
  'Note the second turn. [[shell:echo resumed >> listing.txt]] [[say:Appended to listing.txt.]]';

interface Recorder {
  cli: CliName;
  agent: AgentRunner;
  /** For the error recording: a runner that gives up after one retry. */
  quickAgent?: AgentRunner;
  protocol: ProtocolModule;
  refusal: unknown;
  pointAt(url: string): Partial<ModelAccess>;
  /** Resume in a copy of the checkout at a new path (as Forge's next turn), else in the same one. */
  resumeElsewhere: boolean;
}

const OPENAI_REFUSAL = {
  error: {
    message: 'Incorrect API key provided.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
};

const recorders: Record<string, Recorder> = {
  'claude-code': {
    cli: 'claude',
    agent: new ClaudeCodeAgent(),
    quickAgent: new ClaudeCodeAgent({ env: { CLAUDE_CODE_MAX_RETRIES: '1' } }),
    protocol: anthropicProtocol,
    refusal: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
    pointAt: (url) => ({ anthropicBaseUrl: url }),
    resumeElsewhere: true,
  },
  codex: {
    cli: 'codex',
    agent: new CodexAgent(),
    quickAgent: new CodexAgent({ extraArgs: ['-c', 'model_providers.forge.stream_max_retries=1'] }),
    protocol: openaiResponsesProtocol,
    refusal: OPENAI_REFUSAL,
    pointAt: (url) => ({ openaiBaseUrl: `${url}/v1` }),
    resumeElsewhere: true,
  },
  gemini: {
    cli: 'gemini',
    agent: new GeminiAgent(),
    protocol: geminiProtocol,
    refusal: {
      error: {
        code: 401,
        message: 'Request had invalid authentication credentials.',
        status: 'UNAUTHENTICATED',
      },
    },
    pointAt: (url) => ({ geminiBaseUrl: url }),
    resumeElsewhere: false,
  },
  opencode: {
    cli: 'opencode',
    agent: new OpenCodeAgent(),
    protocol: openaiChatProtocol,
    refusal: OPENAI_REFUSAL,
    pointAt: (url) => ({ openaiBaseUrl: `${url}/v1` }),
    resumeElsewhere: false,
  },
};

async function record(name: string, recorder: Recorder, out: string): Promise<void> {
  const harness = await startAgentHarness({
    cli: recorder.cli,
    protocols: [recorder.protocol],
    label: `record-${name}`,
  });
  const refusing = await startRefusingModel(401, recorder.refusal);
  try {
    const checkoutDir = await harness.checkout({ 'src/.keep': '' });
    const edit = await harness.runTurn(recorder.agent, { prompt: EDIT_PROMPT }, { checkoutDir });
    await save(out, `${name}-edit.jsonl`, edit);
    if (name === 'gemini') await saveGeminiSessionLog(harness, out, edit.result.sessionId);
    const resume = await harness.runTurn(
      recorder.agent,
      { prompt: RESUME_PROMPT, ...(edit.result.sessionId ? { sessionId: edit.result.sessionId } : {}) },
      { checkoutDir: recorder.resumeElsewhere ? await harness.nextCheckout(checkoutDir) : checkoutDir },
    );
    await save(out, `${name}-resume.jsonl`, resume);
    const error = await harness.runTurn(
      recorder.quickAgent ?? recorder.agent,
      { prompt: 'Anything. [[say:never]]' },
      { model: recorder.pointAt(refusing.url) },
    );
    await save(out, `${name}-error.jsonl`, error);
    harness.fake.assertNoViolations();
  } finally {
    await refusing.close();
    await harness.close();
  }
}

/** The CLI's own session log after the edit turn. */
async function saveGeminiSessionLog(
  harness: AgentHarness,
  out: string,
  sessionId: string | undefined,
): Promise<void> {
  const tmp = join(harness.homeDir, '.gemini', 'tmp');
  for (const project of await readdir(tmp)) {
    const chats = join(tmp, project, 'chats');
    for (const file of await readdir(chats).catch(() => [] as string[])) {
      if (sessionId && file.endsWith(`-${sessionId.slice(0, 8)}.jsonl`)) {
        await copyFile(join(chats, file), join(out, 'gemini-session-log.jsonl'));
        console.log(`gemini-session-log.jsonl: from ${file}`);
        return;
      }
    }
  }
  throw new Error(`no session log for ${sessionId} under ${tmp}`);
}

async function save(out: string, file: string, turn: Turn): Promise<void> {
  if (turn.stdout.some((line) => line.includes(turn.token)))
    throw new Error(`${file}: the token reached stdout`);
  await writeFile(join(out, file), turn.stdout.map((line) => `${line}\n`).join(''));
  console.log(`${file}: ${turn.stdout.length} lines (${turn.result.conclusion})`);
}

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt === -1 ? AGENT_STREAMS_DIR : resolve(args.splice(outAt, 2)[1] ?? '.');
const unknown = args.filter((name) => !(name in recorders));
if (unknown.length)
  throw new Error(`unknown CLI ${unknown.join(', ')}: use ${Object.keys(recorders).join(', ')}`);
await mkdir(out, { recursive: true });
for (const [name, recorder] of Object.entries(recorders)) {
  if (args.length === 0 || args.includes(name)) await record(name, recorder, out);
}

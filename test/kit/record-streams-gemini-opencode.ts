/**
 * Re-records test/fixtures/agent-streams/{gemini,opencode}-*.jsonl: the real CLIs (pinned, from
 * .cache/agent-clis) run by Forge's runners against the fake model, stdout saved line by line. Run
 * after bumping a CLI pin, then run the parser tests:
 *
 *   npx tsx test/kit/record-streams-gemini-opencode.ts [gemini] [opencode]
 *
 * Each CLI records `edit` (a scripted file write and shell command), `resume` (the next turn,
 * resuming that session in the same checkout) and `error` (the model API refusing the credentials).
 */
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GeminiAgent } from '../../src/agents/gemini.js';
import { OpenCodeAgent } from '../../src/agents/opencode.js';
import type { AgentRunner, ModelAccess } from '../../src/agents/types.js';
import { geminiProtocol } from './fake-model/protocols/gemini.js';
import { openaiChatProtocol } from './fake-model/protocols/openai-chat.js';
import type { ProtocolModule } from './fake-model/types.js';
import { startAgentHarness } from './real-agent-harness.js';

const FIXTURES = resolve(fileURLToPath(new URL('../fixtures/agent-streams', import.meta.url)));

export const EDIT_PROMPT =
  'Add a greeting. [[write:src/greeting.txt:Hello, Forge!]] [[shell:ls src > listing.txt]] ' +
  '[[say:Added src/greeting.txt and listed src/ into listing.txt.]]';
export const RESUME_PROMPT =
  'Note the second turn. [[shell:echo resumed >> listing.txt]] [[say:Appended to listing.txt.]]';

interface Recorder {
  cli: 'gemini' | 'opencode';
  agent: AgentRunner;
  protocol: ProtocolModule;
  refusal: { status: number; body: unknown };
  pointAt(url: string): Partial<ModelAccess>;
}

const recorders: Record<string, Recorder> = {
  gemini: {
    cli: 'gemini',
    agent: new GeminiAgent(),
    protocol: geminiProtocol,
    refusal: {
      status: 401,
      body: {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      },
    },
    pointAt: (url) => ({ geminiBaseUrl: url }),
  },
  opencode: {
    cli: 'opencode',
    agent: new OpenCodeAgent(),
    protocol: openaiChatProtocol,
    refusal: {
      status: 401,
      body: {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    },
    pointAt: (url) => ({ openaiBaseUrl: `${url}/v1` }),
  },
};

async function record(name: string, recorder: Recorder): Promise<void> {
  const harness = await startAgentHarness({
    cli: recorder.cli,
    protocols: [recorder.protocol],
    label: `record-${name}`,
  });
  const refusing = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res
        .writeHead(recorder.refusal.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(recorder.refusal.body)),
    );
  });
  await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
  try {
    const checkoutDir = await harness.checkout({ 'src/.keep': '' });
    const edit = await harness.runTurn(recorder.agent, { prompt: EDIT_PROMPT }, { checkoutDir });
    await save(`${name}-edit.jsonl`, edit.stdout, edit.result.conclusion);
    if (name === 'gemini') await saveGeminiSessionLog(harness.homeDir, edit.result.sessionId);
    const resume = await harness.runTurn(
      recorder.agent,
      { prompt: RESUME_PROMPT, ...(edit.result.sessionId ? { sessionId: edit.result.sessionId } : {}) },
      { checkoutDir },
    );
    await save(`${name}-resume.jsonl`, resume.stdout, resume.result.conclusion);
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const error = await harness.runTurn(
      recorder.agent,
      { prompt: EDIT_PROMPT },
      { model: recorder.pointAt(url) },
    );
    await save(`${name}-error.jsonl`, error.stdout, error.result.conclusion);
    harness.fake.assertNoViolations();
  } finally {
    refusing.close();
    await harness.close();
  }
}

/** The CLI's own session log after the edit turn, for the resume-repair tests (gemini-session.test.ts). */
async function saveGeminiSessionLog(homeDir: string, sessionId: string | undefined): Promise<void> {
  const tmp = join(homeDir, '.gemini', 'tmp');
  for (const project of await readdir(tmp)) {
    const chats = join(tmp, project, 'chats');
    for (const file of await readdir(chats).catch(() => [] as string[])) {
      if (sessionId && file.endsWith(`-${sessionId.slice(0, 8)}.jsonl`)) {
        await copyFile(join(chats, file), join(FIXTURES, 'gemini-session-log.jsonl'));
        console.log(`gemini-session-log.jsonl: from ${file}`);
        return;
      }
    }
  }
  throw new Error(`no session log for ${sessionId} under ${tmp}`);
}

async function save(file: string, lines: string[], conclusion: string): Promise<void> {
  await writeFile(join(FIXTURES, file), lines.map((l) => `${l}\n`).join(''));
  console.log(`${file}: ${lines.length} lines (${conclusion})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = process.argv.slice(2);
  for (const [name, recorder] of Object.entries(recorders)) {
    if (wanted.length === 0 || wanted.includes(name)) await record(name, recorder);
  }
}

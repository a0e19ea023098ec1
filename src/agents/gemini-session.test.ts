import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AGENT_STREAMS_DIR } from '../../test/kit/agent-streams.js';
import type { SandboxSession } from '../sandbox/types.js';
import {
  loadSessionLog,
  prepareGeminiResume,
  repairRecord,
  repairSessionFile,
  withoutDuplicateToolResponses,
} from './gemini-session.js';
import type { JsonRecord } from './stream-lines.js';

/** Gemini CLI's own session log after a turn with two tool calls (recorded with the real CLI). */
const LOG = await readFile(`${AGENT_STREAMS_DIR}gemini-session-log.jsonl`, 'utf8');
const SESSION_ID = (
  JSON.parse((await readFile(`${AGENT_STREAMS_DIR}gemini-edit.jsonl`, 'utf8')).split('\n')[0]!) as {
    session_id: string;
  }
).session_id;

type Part = Record<string, any>;

/**
 * What Gemini CLI 0.61 sends as history when it resumes these messages (a model of its
 * convertSessionToClientHistory): a model message's recorded tool results are replayed as a user
 * turn, user messages as they are, consecutive user turns merged. Returns function responses per call id.
 */
function replayedResponses(messages: JsonRecord[]): Map<string, number> {
  const turns: Array<{ role: string; parts: Part[] }> = [];
  const push = (role: string, parts: Part[]) => {
    const last = turns.at(-1);
    if (last && last.role === role && role === 'user') last.parts.push(...parts);
    else turns.push({ role, parts: [...parts] });
  };
  for (const m of messages as Array<Record<string, any>>) {
    if (m.type === 'user') push('user', Array.isArray(m.content) ? m.content : [{ text: m.content }]);
    if (m.type === 'gemini') {
      push('model', [{ text: m.content }]);
      const results = (m.toolCalls ?? []).flatMap((c: Part) => c.result ?? []);
      if (results.length) push('user', results);
    }
  }
  const counts = new Map<string, number>();
  for (const turn of turns) {
    for (const part of turn.parts) {
      const id = part.functionResponse?.id;
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

describe('Gemini session logs (recorded with Gemini CLI 0.61)', () => {
  it('reads the log as the CLI does', () => {
    const { sessionId, messages } = loadSessionLog(LOG);
    assert.equal(sessionId, SESSION_ID);
    const calls = messages.flatMap((m) => (Array.isArray(m.toolCalls) ? m.toolCalls : []));
    assert.deepEqual(
      calls.map((c) => (c as { name: string }).name),
      ['write_file', 'run_shell_command'],
    );
  });

  it('would replay every tool result twice on resume (gemini-cli#29365), and once after the repair', () => {
    const { messages } = loadSessionLog(LOG);
    const before = replayedResponses(messages);
    assert.equal(before.size, 2);
    assert.deepEqual([...before.values()], [2, 2]);

    const record = repairRecord(LOG);
    assert.ok(record, 'the recorded log needs the repair');
    const repaired = loadSessionLog(`${LOG}${record}\n`);
    assert.equal(repaired.sessionId, SESSION_ID);
    assert.deepEqual([...replayedResponses(repaired.messages).values()], [1, 1]);
    // Nothing else changed: the model turns, the prompt and the final answer are all still there.
    assert.deepEqual(
      repaired.messages.map((m) => m.type),
      messages.map((m) => m.type).filter((_t, i) => !isDurableResponse(messages[i]!)),
    );
    assert.equal(repairRecord(`${LOG}${record}\n`), undefined, 'a repaired log is left alone');
  });

  it('also cleans a log a buggy resume already doubled', () => {
    const fr = (id: string) => ({
      functionResponse: { id, name: 'run_shell_command', response: { output: 'ok' } },
    });
    const inflated: JsonRecord[] = [
      { id: 'u1', type: 'user', content: [{ text: 'go' }] },
      {
        id: 'g1',
        type: 'gemini',
        content: [{ functionCall: { id: 'c1', name: 'run_shell_command', args: {} } }],
      },
      { id: 'u2', type: 'user', content: [fr('c1')] },
      { id: 'u3', type: 'user', content: [fr('c1')] },
      {
        id: 'g2',
        type: 'gemini',
        content: [{ functionCall: { id: 'c1', name: 'run_shell_command', args: {} } }],
      },
      { id: 'u4', type: 'user', content: [fr('c1'), { text: 'and more' }] },
    ];
    const cleaned = withoutDuplicateToolResponses(inflated);
    // Ids are only unique per tool round: the second round answers c1 again, rightly.
    assert.deepEqual(
      cleaned?.map((m) => m.id),
      ['u1', 'g1', 'u2', 'g2', 'u4'],
    );
    assert.equal(withoutDuplicateToolResponses(cleaned!), undefined);
  });

  it('replays $set, $rewindTo and updated message records in order', () => {
    const lines = [
      { sessionId: 's-1', projectHash: 'h', startTime: 't' },
      { id: 'a', type: 'user', content: 'one' },
      { id: 'b', type: 'gemini', content: 'two' },
      { id: 'b', type: 'gemini', content: 'two, updated' },
      { id: 'c', type: 'user', content: 'three' },
      { $rewindTo: 'c' },
      { $set: { lastUpdated: 'x' } },
      'not json',
    ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
    assert.deepEqual(loadSessionLog(lines.join('\n')), {
      sessionId: 's-1',
      messages: [
        { id: 'a', type: 'user', content: 'one' },
        { id: 'b', type: 'gemini', content: 'two, updated' },
      ],
    });
    const replaced = `${lines.join('\n')}\n${JSON.stringify({ $set: { messages: [{ id: 'z', type: 'user', content: 'new' }] } })}`;
    assert.deepEqual(loadSessionLog(replaced).messages, [{ id: 'z', type: 'user', content: 'new' }]);
  });
});

function isDurableResponse(m: JsonRecord): boolean {
  return (
    m.type === 'user' && Array.isArray(m.content) && m.content.every((p) => (p as Part).functionResponse)
  );
}

describe('prepareGeminiResume', () => {
  let home: string;
  const chats = () => join(home, '.gemini', 'tmp', 'checkout', 'chats');
  const session = (workdir: string): SandboxSession => ({
    workdir,
    homeDir: '/home/agent',
    hostHomeDir: home,
    scratchDir: '/tmp/s',
    hostScratchDir: '/tmp/s',
    exec: () => Promise.reject(new Error('not used')),
    destroy: () => Promise.resolve(),
  });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'forge-gemini-session-'));
    await mkdir(chats(), { recursive: true });
    await writeFile(join(chats(), `session-2026-01-01T00-00-${SESSION_ID.slice(0, 8)}.jsonl`), LOG);
    await writeFile(
      join(home, '.gemini', 'projects.json'),
      JSON.stringify({ projects: { '/workspace': 'checkout', '/elsewhere': 'elsewhere' } }),
    );
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('resumes by id in the same checkout, after repairing the log once', async () => {
    const file = join(chats(), `session-2026-01-01T00-00-${SESSION_ID.slice(0, 8)}.jsonl`);
    const first = await prepareGeminiResume(session('/workspace'), SESSION_ID);
    assert.deepEqual(first, { kind: 'resume', args: ['--resume', SESSION_ID], repaired: true });
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, LOG.split('\n').filter(Boolean).length + 1);
    assert.equal((await prepareGeminiResume(session('/workspace'), SESSION_ID)).kind, 'resume');
    assert.equal(await readFile(file, 'utf8'), text, 'the second time there is nothing to repair');
    const rel = `.gemini/tmp/checkout/chats/session-2026-01-01T00-00-${SESSION_ID.slice(0, 8)}.jsonl`;
    assert.equal(await repairSessionFile(session('/workspace'), rel), false);
  });

  it('imports the session file (as the CLI sees it) from another checkout path', async () => {
    const result = await prepareGeminiResume(session('/elsewhere'), SESSION_ID);
    assert.deepEqual(result, {
      kind: 'import',
      args: [
        '--session-file',
        `/home/agent/.gemini/tmp/checkout/chats/session-2026-01-01T00-00-${SESSION_ID.slice(0, 8)}.jsonl`,
      ],
      repaired: false,
    });
    assert.equal((await prepareGeminiResume(session('/never-seen'), SESSION_ID)).kind, 'import');
  });

  it('neither reads nor repairs a session log the agent replaced with a link to a host file', async () => {
    const hostile = await mkdtemp(join(tmpdir(), 'forge-gemini-hostile-'));
    try {
      // The host file holds a log that needs repair: following the link would append to it.
      const hostFile = join(hostile, 'host-file.jsonl');
      await writeFile(hostFile, LOG, { mode: 0o600 });
      const before = await stat(hostFile);
      const chatsDir = join(hostile, 'home', '.gemini', 'tmp', 'checkout', 'chats');
      await mkdir(chatsDir, { recursive: true });
      const name = `session-2026-01-01T00-00-${SESSION_ID.slice(0, 8)}.jsonl`;
      await symlink(hostFile, join(chatsDir, name));
      const result = await prepareGeminiResume(
        { ...session('/workspace'), hostHomeDir: join(hostile, 'home') },
        SESSION_ID,
      );
      assert.deepEqual(result, {
        kind: 'fresh',
        args: [],
        why: `could not be read: /home/agent/.gemini/tmp/checkout/chats/${name} is a symbolic link (Forge never follows links in the agent's directories)`,
      });
      assert.equal(await readFile(hostFile, 'utf8'), LOG, 'no repair record was appended through the link');
      assert.equal((await stat(hostFile)).mtimeMs, before.mtimeMs);
    } finally {
      await rm(hostile, { recursive: true, force: true });
    }
  });

  it('starts fresh, saying so, when the session is gone', async () => {
    const result = await prepareGeminiResume(session('/workspace'), '00000000-0000-0000-0000-000000000000');
    assert.equal(result.kind, 'fresh');
    assert.equal(result.kind === 'fresh' ? result.why : '', "is no longer in the task's home");
  });
});

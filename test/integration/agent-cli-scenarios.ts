/**
 * Scenarios every real-CLI agent test runs, each for its own CLI: where the turn's token goes, a
 * prompt far beyond the argv/env limit, a refused model call, a lost session, the proxy the tool
 * commands get, cancellation, and what a resumed session replays. Each returns the turn for the
 * CLI's own assertions.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEvent, AgentRunner, ModelAccess } from '../../src/agents/types.js';
import { GITHUB_WORDS } from '../../src/forge/github/forge.js';
import { buildTurnPrompts } from '../../src/tasks/prompt.js';
import { type AgentHarness, type RecordedExec, startRefusingModel, type Turn } from '../kit/agent-harness.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';
import { fixtureTask, fixtureTurn } from '../kit/tasks.js';
import {
  filesContaining,
  processAlive,
  processesIn,
  promptOf,
  textOf,
  waitForFile,
} from './agent-cli-checks.js';

export interface CliUnderTest {
  harness(): AgentHarness;
  agent: AgentRunner;
  /** How the runner names its CLI in messages ("Claude Code"). */
  subject: string;
  /** The operator setting a refused key points to. */
  keySetting: string;
  /** The CLI's own run among a turn's execs (OpenCode also runs `export`/`import`). */
  isCliExec(exec: RecordedExec): boolean;
  /** The variable that carries the turn's token to the CLI. */
  tokenEnv: string;
  /** Whether a model request carried the token (each provider has its header). */
  sentToken(request: RecordedRequest, token: string): boolean;
  /** ModelAccess that points the CLI's provider at another server. */
  pointAt(url: string): Partial<ModelAccess>;
}

/** The CLI's one run in a turn. */
export function cliExec(cli: CliUnderTest, turn: Turn): RecordedExec {
  const runs = turn.execs.filter((e) => cli.isCliExec(e));
  assert.equal(
    runs.length,
    1,
    `one ${cli.subject} run: ${turn.execs.map((e) => e.argv.join(' ')).join(' | ')}`,
  );
  return runs[0]!;
}

/**
 * What a finished turn reports: the summary (also the last event and one of the messages), the
 * session (its event and the result), the tool calls in order, and the tokens the model served
 * (`cost`: the CLI also reports a cost; otherwise usage is exactly the tokens).
 */
export function assertReported(
  turn: Turn,
  expected: { summary: string; tools: AgentEvent[]; cost: boolean },
): void {
  const { result, events, requests } = turn;
  assert.equal(result.summary, expected.summary);
  assert.deepEqual(events.at(-1), { type: 'summary', text: expected.summary });
  assert.ok(events.some((e) => e.type === 'message' && e.text === expected.summary));
  assert.ok(result.sessionId);
  assert.deepEqual(
    events.find((e) => e.type === 'session'),
    { type: 'session', sessionId: result.sessionId },
  );
  assert.deepEqual(
    events.filter((e) => e.type === 'tool'),
    expected.tools,
  );
  const tokens = {
    inputTokens: requests.reduce((n, r) => n + r.usage.inputTokens, 0),
    outputTokens: requests.reduce((n, r) => n + r.usage.outputTokens, 0),
  };
  if (!expected.cost) assert.deepEqual(result.usage, tokens);
  else {
    assert.deepEqual(
      { inputTokens: result.usage?.inputTokens, outputTokens: result.usage?.outputTokens },
      tokens,
    );
    assert.ok((result.usage?.costUsd ?? 0) > 0);
  }
}

/** The token reaches the CLI's environment and the model, and nothing else: no argv, stdin, output or file. */
export async function assertTokenOnlyInEnvironment(cli: CliUnderTest, turn: Turn): Promise<void> {
  const { token } = turn;
  assert.equal(cliExec(cli, turn).env[cli.tokenEnv], token);
  for (const exec of turn.execs) {
    assert.ok(!exec.argv.join(' ').includes(token), 'token on argv');
    assert.ok(!exec.stdin?.includes(token), 'token on stdin');
  }
  assert.ok(!JSON.stringify(turn.sessionEnv).includes(token), 'token in the sandbox-wide environment');
  assert.ok(turn.requests.length > 0);
  assert.ok(
    turn.requests.every((r) => cli.sentToken(r, token)),
    'every model request carried the token',
  );
  assert.ok(!turn.lines.some(([, line]) => line.includes(token)), 'token in the output');
  assert.deepEqual(await filesContaining(cli.harness().homeDir, token), [], 'token written to the home');
  assert.deepEqual(await filesContaining(turn.checkoutDir, token), [], 'token written to the checkout');
}

/** Every request of the turn carries the repository's instruction files (`role`: in those messages). */
export function assertInstructionsReached(turn: Turn, markers: string[], role?: string): void {
  assert.ok(turn.requests.length >= 1);
  for (const request of turn.requests) {
    const text = textOf(request, role);
    for (const marker of markers) assert.ok(text.includes(marker), `${marker} missing from a request`);
  }
}

/** A prompt over 200 KiB reaches the model whole, on stdin, with a short argv. */
export async function bigPromptTurn(
  cli: CliUnderTest,
  options: { agent?: AgentRunner; directives?: string } = {},
): Promise<Turn> {
  const filler = Array.from(
    { length: 4000 },
    (_, i) => `line ${i}: ${'lorem ipsum dolor sit amet '.repeat(2)}`,
  );
  const prompt = `Big task ${options.directives ?? ''}[[say:Read it all.]]\n${filler.join('\n')}\nEND-OF-PROMPT`;
  assert.ok(Buffer.byteLength(prompt) > 200 * 1024);
  const turn = await cli.harness().runTurn(options.agent ?? cli.agent, { prompt });
  assert.equal(turn.result.conclusion, 'success', turn.result.error);
  assert.equal(turn.result.summary, 'Read it all.');
  const exec = cliExec(cli, turn);
  assert.equal(exec.stdin, prompt);
  assert.ok(exec.argv.join(' ').length < 200, 'the prompt is not on argv');
  assert.equal(promptOf(turn.requests[0]!, prompt), prompt, 'the model received the whole prompt');
  cli.harness().fake.assertNoViolations();
  return turn;
}

/** A model API that refuses the key: the turn fails with the CLI's reason and the setting to check. */
export async function refusedKeyTurn(
  cli: CliUnderTest,
  refusal: { status: number; body: unknown },
  agent: AgentRunner = cli.agent,
): Promise<Turn> {
  const refusing = await startRefusingModel(refusal.status, refusal.body);
  try {
    const turn = await cli
      .harness()
      .runTurn(agent, { prompt: 'Anything. [[say:never]]' }, { model: cli.pointAt(refusing.url) });
    assert.equal(turn.result.conclusion, 'failure');
    assert.ok(turn.result.error?.startsWith(`${cli.subject} failed: `), turn.result.error);
    assert.ok(
      turn.result.error?.includes(
        `(HTTP ${refusal.status}): check ${cli.keySetting}, the key Forge's model gateway uses for this provider.`,
      ),
      turn.result.error,
    );
    assert.equal(turn.result.summary, undefined);
    return turn;
  } finally {
    await refusing.close();
  }
}

/**
 * Resuming a session the home does not have starts a new one, says so, and gives the new session
 * the prompt written for one: the earlier turn's summary, which the prompt for resuming leaves to
 * the (lost) session.
 */
export async function lostSessionTurn(cli: CliUnderTest, lostId: string): Promise<Turn> {
  const earlierSummary = 'Turn one added notes/hello.txt with a greeting (summary 5b1e).';
  const earlier = fixtureTurn(1, {
    state: 'completed',
    instruction: 'add a greeting',
    summary: earlierSummary,
    commitSha: '1111111aaaa',
  });
  const now = fixtureTurn(2, { state: 'running', instruction: 'Fresh. [[say:Started over.]]' });
  const task = fixtureTask('tlost', { turns: [earlier, now], branch: 'forge/1-x' });
  const prompts = buildTurnPrompts(task, now, GITHUB_WORDS, { resumable: true });
  assert.ok(prompts.freshPrompt?.includes(earlierSummary));
  assert.ok(!prompts.prompt.includes(earlierSummary), 'the prompt for resuming leaves it to the session');

  const turn = await cli.harness().runTurn(cli.agent, { ...prompts, sessionId: lostId });
  assert.equal(turn.result.conclusion, 'success', turn.result.error);
  const runs = turn.execs.filter((e) => cli.isCliExec(e));
  assert.equal(runs.at(-1)?.stdin, prompts.freshPrompt, 'the new session gets the prompt for one');
  assert.ok(turn.requests.length > 0);
  for (const request of turn.requests.filter((r) => r.exchange.tools.length > 0))
    assert.equal(
      promptOf(request, prompts.freshPrompt!),
      prompts.freshPrompt,
      'the model received the prompt with the earlier turn',
    );
  assert.ok(turn.result.sessionId);
  assert.notEqual(turn.result.sessionId, lostId);
  assert.equal(turn.result.summary, 'Started over.');
  const note = `The previous ${cli.subject} session (${lostId}) is no longer in the task's home; starting a new one.`;
  assert.ok(turn.stderr.includes(`forge: ${note}`), turn.stderr.join('\n'));
  assert.ok(turn.events.some((e) => e.type === 'message' && e.text === note));
  return turn;
}

/**
 * The commands the CLI runs get the egress proxy (both spellings, loopback direct), while the CLI
 * itself reaches the model directly: the proxy sees nothing.
 */
export async function proxyTurn(cli: CliUnderTest): Promise<Turn> {
  const harness = cli.harness();
  const before = harness.egress.length;
  const turn = await harness.runTurn(cli.agent, {
    prompt: 'Proxy. [[shell:env | grep -i _proxy= | sort > proxy.txt]] [[say:Checked.]]',
  });
  assert.equal(turn.result.conclusion, 'success', turn.result.error);
  assert.deepEqual(
    harness.egress.slice(before),
    [],
    'nothing went through the proxy (no model call, no background traffic)',
  );
  const env = await readFile(join(turn.checkoutDir, 'proxy.txt'), 'utf8');
  assert.ok(env.includes(`HTTPS_PROXY=${harness.proxyUrl}\n`), env);
  assert.ok(env.includes(`https_proxy=${harness.proxyUrl}\n`), env);
  assert.match(env, /^NO_PROXY=localhost,127\.0\.0\.1,::1$/m);
  return turn;
}

/**
 * Aborting a turn while a tool command runs returns cancelled at once, and nothing the turn started
 * is left running: not the CLI, not the tool command (which the CLI may have started in a process
 * group of its own).
 */
export async function cancelledTurn(cli: CliUnderTest): Promise<Turn> {
  const harness = cli.harness();
  const controller = new AbortController();
  const running = harness.runTurn(
    cli.agent,
    // Renamed into place: the file is never seen before it holds the pid.
    {
      prompt:
        'Wait. [[shell:echo $$ > started.tmp; mv started.tmp started.txt; sleep 30; echo late > late.txt]]',
    },
    { signal: controller.signal },
  );
  const checkout = await waitForFile(harness, 'started.txt');
  const pid = Number((await readFile(join(checkout, 'started.txt'), 'utf8')).trim());
  assert.ok(pid > 0);
  assert.ok(processesIn(checkout).length > 0, 'the tool command runs before the abort');
  const abortedAt = Date.now();
  controller.abort();
  const turn = await running;
  assert.equal(turn.result.conclusion, 'cancelled');
  assert.ok(Date.now() - abortedAt < 15_000, 'the turn did not wait for the tool command');
  assert.deepEqual(processesIn(checkout), [], 'nothing the turn started still runs');
  assert.equal(processAlive(pid), false, 'the tool command is gone');
  await assert.rejects(readFile(join(checkout, 'late.txt')));
  return turn;
}

/**
 * The first request of a resumed turn replays the earlier turns (their prompts, tool calls and
 * answers) before the new prompt.
 */
export function assertReplayed(
  request: RecordedRequest,
  expected: { prompts: string[]; toolCalls: string[]; answers?: string[]; prompt: string },
): void {
  const history = request.exchange.messages;
  const users = history.filter((m) => m.role === 'user').map((m) => m.text);
  for (const earlier of expected.prompts)
    assert.ok(
      users.some((t) => t.includes(earlier)),
      `earlier prompt not replayed: ${earlier.slice(0, 60)}`,
    );
  assert.ok(users.at(-1)?.includes(expected.prompt), 'the new prompt comes last');
  assert.deepEqual(
    history.filter((m) => m.toolCall).map((m) => m.toolCall!.name),
    expected.toolCalls,
  );
  for (const answer of expected.answers ?? [])
    assert.ok(
      history.some((m) => m.role === 'assistant' && m.text === answer),
      `answer not replayed: ${answer}`,
    );
}

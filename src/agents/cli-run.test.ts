/** The plumbing the four CLI runners share: turn checks, running a CLI, and how a run ended. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecOptions, ExecResult, SandboxSession } from '../sandbox/types.js';
import {
  CLI_MAX_LINE_BYTES,
  type CliRun,
  cliFailure,
  concludeCli,
  defaultModel,
  finishCliRun,
  MODEL_NAME,
  modelStatusHint,
  proxyEnv,
  resumeOrStartOver,
  runCli,
  SESSION_ID,
  startCliTurn,
} from './cli-run.js';
import { statusIn } from './stream-lines.js';
import type { AgentEvent, AgentRunContext, ModelAccess } from './types.js';

const access: ModelAccess = {
  anthropicBaseUrl: 'http://forge-gateway:8080',
  openaiBaseUrl: 'http://10.1.2.3:8080/v1',
  geminiBaseUrl: 'http://[fd00::5]:8080',
  token: 't',
};
const CLI = { subject: 'X CLI', keySetting: 'X_API_KEY', maxPromptBytes: 1024 * 1024 };

function context(model: ModelAccess | null = access) {
  const lines: Array<[string, string]> = [];
  const events: AgentEvent[] = [];
  const ctx: AgentRunContext = {
    session: {} as SandboxSession,
    ...(model ? { model } : {}),
    signal: new AbortController().signal,
    timeoutMs: 60_000,
    onLine: (stream, line) => lines.push([stream, line]),
    onEvent: (event) => events.push(event),
  };
  return { ctx, lines, events };
}

describe('startCliTurn', () => {
  it('needs the model gateway, a model name that cannot pass as a flag and a prompt within limits', () => {
    const input = { taskId: 't', prompt: 'do it' };
    assert.deepEqual(startCliTurn(CLI, input, context(null).ctx, 'm'), {
      refused:
        'X CLI needs model access, but the turn has no model gateway grant: the model gateway is not configured on this Forge.',
    });
    assert.deepEqual(startCliTurn(CLI, { ...input, model: '--yolo' }, context().ctx, 'm'), {
      refused: '`--yolo` is not a valid model name.',
    });
    assert.deepEqual(startCliTurn(CLI, { ...input, model: 'a`b c' }, context().ctx, 'm'), {
      refused: "`a'b c` is not a valid model name.",
    });
    assert.deepEqual(startCliTurn(CLI, { ...input, prompt: ' \n' }, context().ctx, 'm'), {
      refused: 'X CLI needs a non-empty prompt.',
    });
    assert.deepEqual(
      startCliTurn(CLI, { ...input, prompt: 'x'.repeat(1024 * 1024 + 1) }, context().ctx, 'm'),
      {
        refused: 'The prompt is larger than the 1 MiB X CLI reads; shorten the request.',
      },
    );
    assert.deepEqual(startCliTurn(CLI, { ...input, model: ' opus ' }, context().ctx, 'm'), {
      model: 'opus',
      access,
      prompt: 'do it',
      freshPrompt: 'do it',
    });
    assert.deepEqual(startCliTurn(CLI, { ...input, sessionId: 'ses_1' }, context().ctx, 'm'), {
      model: 'm',
      access,
      resume: 'ses_1',
      prompt: 'do it',
      freshPrompt: 'do it',
    });
  });

  it('keeps the prompt for a new session beside the one for resuming, and checks both', () => {
    const input = { taskId: 't', prompt: 'resume: do it', freshPrompt: 'earlier turns… do it' };
    assert.deepEqual(startCliTurn(CLI, { ...input, sessionId: 'ses_1' }, context().ctx, 'm'), {
      model: 'm',
      access,
      resume: 'ses_1',
      prompt: 'resume: do it',
      freshPrompt: 'earlier turns… do it',
    });
    // Nothing to resume: the prompt for a new session is the one sent.
    assert.deepEqual(startCliTurn(CLI, input, context().ctx, 'm'), {
      model: 'm',
      access,
      prompt: 'earlier turns… do it',
      freshPrompt: 'earlier turns… do it',
    });
    assert.deepEqual(
      startCliTurn(CLI, { ...input, freshPrompt: 'x'.repeat(1024 * 1024 + 1) }, context().ctx, 'm'),
      { refused: 'The prompt is larger than the 1 MiB X CLI reads; shorten the request.' },
    );
    assert.deepEqual(startCliTurn(CLI, { ...input, freshPrompt: ' ' }, context().ctx, 'm'), {
      refused: 'X CLI needs a non-empty prompt.',
    });
  });

  it('starts a new session, saying so, when the stored session id cannot go on argv', () => {
    const { ctx, lines, events } = context();
    const turn = startCliTurn(
      CLI,
      { taskId: 't', prompt: 'x', freshPrompt: 'fresh x', sessionId: '--resume-all' },
      ctx,
      'm',
    );
    assert.deepEqual(turn, { model: 'm', access, prompt: 'fresh x', freshPrompt: 'fresh x' });
    const note =
      'The previous X CLI session (--resume-all) has an id Forge cannot pass on; starting a new one.';
    assert.deepEqual(lines, [['stderr', `forge: ${note}`]]);
    assert.deepEqual(events, [{ type: 'message', text: note }]);
  });

  it('accepts plain model names and session ids only', () => {
    for (const name of ['sonnet', 'sonnet[1m]', 'claude-sonnet-4-5@20250929', 'org/model:tag', 'gpt-5.1+x'])
      assert.ok(MODEL_NAME.test(name), name);
    for (const name of ['-x', '--yolo', 'a b', '', 'a;b', `m${'x'.repeat(200)}`])
      assert.ok(!MODEL_NAME.test(name), name);
    assert.ok(SESSION_ID.test('01a242f1-582e-79c0-b82d-4eea2594f738'));
    assert.ok(SESSION_ID.test('ses_4f2aB9'));
    assert.ok(!SESSION_ID.test('--dangerous'));
    assert.ok(!SESSION_ID.test('a b'));
    assert.equal(defaultModel(CLI, '  ', 'fallback'), 'fallback');
    assert.equal(defaultModel(CLI, ' mine ', 'fallback'), 'mine');
    assert.throws(() => defaultModel(CLI, '-x', 'fallback'), /invalid default X CLI model: -x/);
  });
});

describe('resumeOrStartOver', () => {
  const attempts = (lostOnResume: boolean, end: ExecResult['end'] = 'exited') => {
    const asked: Array<string | undefined> = [];
    const prompts: string[] = [];
    const attempt = async (resume: string | undefined, prompt: string) => {
      asked.push(resume);
      prompts.push(prompt);
      return {
        run: { exec: { exitCode: 1, end, durationMs: 1 }, stderr: [] },
        lost: lostOnResume && !!resume,
      };
    };
    return { asked, prompts, attempt };
  };
  const prompts = { prompt: 'resumed prompt', freshPrompt: 'fresh prompt, with the earlier turns' };

  it('runs again with a new session and its prompt, saying so, when the CLI lost the one to resume', async () => {
    const { ctx, lines, events } = context();
    const { asked, prompts: sent, attempt } = attempts(true);
    const result = await resumeOrStartOver(ctx, CLI, { resume: 'ses_1', ...prompts }, attempt, (a) => a.lost);
    assert.deepEqual(asked, ['ses_1', undefined]);
    assert.deepEqual(sent, [prompts.prompt, prompts.freshPrompt], 'the new session gets the prompt for one');
    assert.equal(result.lost, false);
    const note = "The previous X CLI session (ses_1) is no longer in the task's home; starting a new one.";
    assert.deepEqual(lines, [['stderr', `forge: ${note}`]]);
    assert.deepEqual(events, [{ type: 'message', text: note }]);
  });

  it('runs once when the session was there, nothing was to resume, or the run was stopped', async () => {
    for (const [lostOnResume, resume, end] of [
      [false, 'ses_1', 'exited'],
      [true, undefined, 'exited'],
      [true, 'ses_1', 'aborted'],
    ] as const) {
      const { ctx, events } = context();
      const { asked, prompts: sent, attempt } = attempts(lostOnResume, end);
      await resumeOrStartOver(
        ctx,
        CLI,
        { ...(resume ? { resume } : {}), ...prompts },
        attempt,
        (a) => a.lost,
      );
      assert.deepEqual(asked, [resume]);
      assert.deepEqual(sent, [resume ? prompts.prompt : prompts.freshPrompt]);
      assert.deepEqual(events, []);
    }
  });
});

describe('proxyEnv', () => {
  it('is empty without a proxy', () => {
    assert.deepEqual(proxyEnv(access), {});
    assert.deepEqual(proxyEnv(undefined), {});
  });

  it('sets both spellings and keeps the gateway hosts direct', () => {
    const env = proxyEnv({ ...access, proxyUrl: 'http://u:p@proxy:3128' });
    for (const key of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'])
      assert.equal(env[key], 'http://u:p@proxy:3128');
    assert.equal(env.NO_PROXY, 'localhost,127.0.0.1,::1,forge-gateway,10.1.2.3,fd00::5');
    assert.equal(env.no_proxy, env.NO_PROXY);
    const ipv6 = proxyEnv({ ...access, anthropicBaseUrl: 'http://[::1]:9/a', proxyUrl: 'http://proxy:3128' });
    assert.deepEqual(ipv6.NO_PROXY?.split(','), ['localhost', '127.0.0.1', '::1', '10.1.2.3', 'fd00::5']);
  });
});

describe('runCli', () => {
  it('passes the prompt on stdin with a 4 MiB line cap, parses stdout, keeps the stderr tail', async () => {
    const seen: Array<{ argv: string[]; options: ExecOptions }> = [];
    const session = {
      async exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
        seen.push({ argv, options });
        options.onLine('stdout', 'one');
        for (let i = 0; i < 7; i++) options.onLine('stderr', `err ${i} ${'e'.repeat(i === 6 ? 5000 : 1)}`);
        options.onLine('stdout', 'two');
        return { exitCode: 3, end: 'exited', durationMs: 5 };
      },
    } as unknown as SandboxSession;
    const { ctx, lines, events } = context();
    const parser = {
      push: (line: string): AgentEvent[] => [{ type: 'message', text: line }],
      end: (): AgentEvent[] => [{ type: 'summary', text: 'end' }],
      outcome: () => ({}),
    };
    const run = await runCli(
      { ...ctx, session, idleTimeoutMs: 30_000 },
      { argv: ['cli', '-p'], env: { A: '1' }, stdin: 'the prompt', parser },
    );
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]?.argv, ['cli', '-p']);
    const options = seen[0]!.options;
    assert.equal(options.stdin, 'the prompt');
    assert.deepEqual(options.env, { A: '1' });
    assert.equal(options.maxLineBytes, CLI_MAX_LINE_BYTES);
    assert.equal(CLI_MAX_LINE_BYTES, 4 * 1024 * 1024);
    assert.equal(options.timeoutMs, 60_000);
    assert.equal(options.idleTimeoutMs, 30_000);
    assert.equal(options.signal, ctx.signal);
    assert.deepEqual(events, [
      { type: 'message', text: 'one' },
      { type: 'message', text: 'two' },
      { type: 'summary', text: 'end' },
    ]);
    assert.equal(lines.length, 9, 'every raw line reaches the event log');
    assert.deepEqual(
      run.stderr.map((l) => l.slice(0, 5)),
      ['err 2', 'err 3', 'err 4', 'err 5', 'err 6'],
    );
    assert.equal(run.stderr.at(-1)?.length, 2000, 'kept stderr lines are clipped');
    assert.deepEqual(run.exec, { exitCode: 3, end: 'exited', durationMs: 5 });
    assert.equal(run.lastMessage, 'two');
  });
});

describe('how a run ended', () => {
  const limits = { timeoutMs: 60_000, idleTimeoutMs: 120_000 };
  const run = (exec: Partial<ExecResult>, stderr: string[] = []): CliRun => ({
    exec: { exitCode: 0, end: 'exited', durationMs: 1, ...exec },
    stderr,
  });

  it('lets the sandbox verdict win, then the CLI error, then a bare exit with stderr', () => {
    assert.deepEqual(concludeCli(run({}), limits, 'X', undefined), { conclusion: 'success' });
    assert.deepEqual(concludeCli(run({ end: 'timeout', exitCode: null }), limits, 'X', 'X failed: boom'), {
      conclusion: 'timed_out',
      error: 'The agent ran longer than 1 minute and was stopped.',
    });
    assert.equal(
      concludeCli(run({ end: 'aborted', exitCode: null }), limits, 'X', undefined).conclusion,
      'cancelled',
    );
    assert.deepEqual(concludeCli(run({}), limits, 'X', 'X failed: boom'), {
      conclusion: 'failure',
      error: 'X failed: boom',
    });
    assert.deepEqual(concludeCli(run({ exitCode: 1 }, ['x']), limits, 'X', 'X failed: boom'), {
      conclusion: 'failure',
      error: 'X failed: boom',
    });
    const bare = concludeCli(run({ exitCode: 3 }, ['fatal: it broke']), limits, 'X', undefined);
    assert.equal(bare.conclusion, 'failure');
    assert.match(bare.error!, /^X exited with code 3\.\n\nLast lines of stderr:\n```\nfatal: it broke\n```$/);
  });

  it('builds the result from the outcome, naming the key to check for a refused call', () => {
    const outcome = { sessionId: 's', summary: 'Done.', usage: { inputTokens: 3, outputTokens: 1 } };
    assert.deepEqual(finishCliRun(CLI, run({}), limits, outcome), {
      conclusion: 'success',
      ...outcome,
      exitCode: 0,
      end: 'exited',
    });
    const refused = finishCliRun(CLI, run({ exitCode: 1 }), limits, {
      sessionId: 's',
      error: 'got status: 401 Unauthorized',
    });
    assert.equal(refused.conclusion, 'failure');
    assert.equal(refused.sessionId, 's', 'the session id is kept when the turn failed');
    assert.match(
      refused.error!,
      /^X CLI failed: got status: 401 Unauthorized\n\n.*HTTP 401.*check X_API_KEY/,
    );
    const named = finishCliRun(CLI, run({ exitCode: 1 }), limits, { error: 'nope', apiErrorStatus: 429 });
    assert.match(named.error!, /^X CLI failed: nope\n\n.*rate limit/);
    const fallback = finishCliRun(
      CLI,
      run({ exitCode: 41 }, ['stderr']),
      limits,
      {},
      'X CLI could not authenticate.',
    );
    assert.deepEqual(fallback, {
      conclusion: 'failure',
      error: 'X CLI could not authenticate.',
      exitCode: 41,
      end: 'exited',
    });
    const idle = finishCliRun(CLI, run({ exitCode: null, end: 'idle_timeout' }), limits, {});
    assert.equal(idle.conclusion, 'timed_out');
    assert.equal(idle.end, 'idle_timeout', 'an idle timeout is told apart from the turn limit');
  });

  it("takes the agent's last message as the summary of a run stopped before it summed up", () => {
    const said = (exec: Partial<ExecResult>): CliRun => ({ ...run(exec), lastMessage: 'Next: the tests.' });
    for (const end of ['aborted', 'timeout', 'idle_timeout', 'oom'] as const)
      assert.equal(
        finishCliRun(CLI, said({ exitCode: null, end }), limits, {}).summary,
        'Next: the tests.',
        end,
      );
    assert.equal(
      finishCliRun(CLI, said({ exitCode: null, end: 'aborted' }), limits, { summary: 'Summed up.' }).summary,
      'Summed up.',
      'a summary the CLI gave wins',
    );
    // A run that ended by itself without a summary has none: a failure says why in its error.
    assert.equal(finishCliRun(CLI, said({ exitCode: 1 }), limits, { error: 'boom' }).summary, undefined);
  });

  it('words failures as one clipped paragraph plus a hint', () => {
    assert.equal(cliFailure('Codex', '  a\n b ', 'Hint.'), 'Codex failed: a b\n\nHint.');
    assert.equal(cliFailure('Codex', 'x'.repeat(600)).length, 'Codex failed: '.length + 501);
  });

  it('finds the status in CLI error texts and says what to do', () => {
    assert.equal(statusIn('got status: 429 Too Many Requests'), 429);
    assert.equal(statusIn('unexpected status 401 Unauthorized: Incorrect API key'), 401);
    assert.equal(statusIn('{"error":{"code": 401}}'), 401);
    assert.equal(statusIn('HTTP 503 from upstream'), 503);
    assert.equal(statusIn('took 401 ms'), undefined);
    assert.match(modelStatusHint(403, 'GEMINI_API_KEY')!, /check GEMINI_API_KEY/);
    assert.match(modelStatusHint(401, 'ANTHROPIC_API_KEY')!, /HTTP 401.*ANTHROPIC_API_KEY/);
    assert.match(
      modelStatusHint(429, 'K')!,
      /rate limit, the provider account's quota, or this task's budget/,
    );
    assert.match(modelStatusHint(404, 'K')!, /model name/);
    assert.match(modelStatusHint(400, 'K')!, /HTTP 400/);
    assert.match(modelStatusHint(502, 'K')!, /temporary/);
    assert.match(modelStatusHint(529, 'K')!, /temporary/);
    assert.equal(modelStatusHint(undefined, 'K'), undefined);
    assert.equal(modelStatusHint(302, 'K'), undefined);
  });
});

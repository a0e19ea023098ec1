import type { AgentConclusion, AgentEvent, AgentResult } from '../agents/types.js';
import { proxyEnvironment } from '../gateway/env.js';
import type { PreparedTurn, TurnResources } from './prepare-turn.js';
import { buildTurnPrompts } from './prompt.js';
import { canResumeSession } from './transcript.js';
import { LimitReached } from './turn-budget.js';
import { fenceOf } from './turn-fence.js';
import type { Outcome, TurnRun } from './turn-run.js';

/** A repository `setup` command failed: the message is the user-facing explanation. */
export class SetupFailed extends Error {}

/**
 * The repository's setup commands, then the agent, in the turn's sandbox. Records what the agent
 * said and used on the run (`patch`) and how the turn ends (`outcome`).
 */
export async function runAgent(run: TurnRun, prepared: PreparedTurn, held: TurnResources): Promise<void> {
  const { deps, forge, abort } = run;
  const { agent, agentName, session, settings, model, image, turnTimeoutMs, idleTimeoutMs } = prepared;
  const startedAt = Date.now();
  const timeLeft = () => Math.max(1000, turnTimeoutMs - (Date.now() - startedAt));
  const setup = settings.setup ?? [];
  for (const [i, command] of setup.entries()) {
    if (abort.signal.aborted) break;
    await run.note(`setup ${i + 1}/${setup.length} (${forge.words.settingsPath}): $ ${command}`);
    const ran = await session.exec(['sh', '-c', command], {
      // Setup (e.g. `npm ci`) reaches the network only through the egress proxy.
      ...(model ? { env: proxyEnvironment(model) } : {}),
      signal: abort.signal,
      timeoutMs: timeLeft(),
      idleTimeoutMs,
      onLine: (_stream, line) => run.lines.push(line),
    });
    await run.lines.flush();
    if (abort.signal.aborted) break;
    if (ran.end !== 'exited' || ran.exitCode !== 0) {
      const how = ran.end === 'exited' ? `exit code ${ran.exitCode}` : ran.end.replace('_', ' ');
      throw new SetupFailed(
        `The ${forge.words.repository}'s setup command \`${command.replace(/`/g, "'").slice(0, 200)}\` (from \`${forge.words.settingsPath}\`) failed (${how}), so the agent did not run. Its output is in the task log.`,
      );
    }
    await run.note(`setup ${i + 1} done`);
  }
  run.setPhase('agent');
  await run.note(
    `agent ${agentName} starting${image && deps.sandbox.kind === 'docker' ? ` in ${image}` : ''}`,
  );
  const task = run.task;
  const turn = run.turn;
  const result: AgentResult = abort.signal.aborted
    ? { conclusion: 'cancelled' }
    : await agent.run(
        {
          taskId: task.id,
          // A resumed session's prompt, and one for a new session should the CLI have lost it.
          ...buildTurnPrompts(task, turn, forge.words, {
            ...(settings.testCommand ? { testCommand: settings.testCommand } : {}),
            ...(settings.instructions ? { instructions: settings.instructions } : {}),
            ...(prepared.feedback ? { feedback: prepared.feedback } : {}),
            resumable: canResumeSession(agentName, task.sessions),
          }),
          ...((turn.options.model ?? deps.agentModels?.[agentName])
            ? { model: turn.options.model ?? deps.agentModels?.[agentName] }
            : {}),
          ...(task.sessions?.[agentName] ? { sessionId: task.sessions[agentName] } : {}),
        },
        {
          session,
          ...(model ? { model } : {}),
          signal: abort.signal,
          timeoutMs: timeLeft(),
          idleTimeoutMs,
          onLine: (_stream, line) => run.lines.push(line),
          onEvent: (event: AgentEvent) => {
            if (event.type === 'tool')
              run.activity = `${event.name}${event.detail ? `: ${event.detail}` : ''}`;
            else if (event.type === 'message') run.activity = event.text;
            else return;
            run.render();
          },
        },
      );
  await run.lines.flush();
  run.patch.summary = result.summary ? deps.redactor.redact(result.summary).slice(0, 20_000) : undefined;
  // The gateway's measurement wins over what the CLI says it used.
  const usage = held.budget?.usage() ?? result.usage;
  if (usage) run.patch.usage = usage;
  if (result.sessionId) {
    const sessionId = result.sessionId;
    await run.update((t) => {
      // A superseded attempt's session holds work that was thrown away.
      if (fenceOf(run.turnOf(t), run.attemptId) === 'owner')
        t.sessions = { ...t.sessions, [agentName]: sessionId };
    });
  }
  run.outcome = outcomeOf(run, result, turnTimeoutMs);
  await run.note(
    `agent finished: ${result.conclusion}${result.exitCode !== undefined ? ` (exit ${result.exitCode})` : ''}`,
  );
}

function outcomeOf(run: TurnRun, result: AgentResult, timeoutMs: number): Outcome {
  const { signal } = run.abort;
  const conclusion: AgentConclusion = result.conclusion;
  if (conclusion === 'success') return { state: 'completed' };
  if (signal.reason instanceof LimitReached) {
    run.patch.limit = signal.reason.hit.cap;
    return { state: 'cancelled', endReason: 'limit', error: signal.reason.message };
  }
  if (conclusion === 'cancelled' || signal.aborted) {
    const shutdown = signal.reason instanceof Error && signal.reason.message === 'shutdown';
    return {
      state: 'cancelled',
      endReason: shutdown ? 'worker_lost' : 'stopped',
      error: shutdown ? 'Forge was shut down while this turn ran.' : 'Stopped on request (`/forge stop`).',
    };
  }
  if (conclusion === 'timed_out') {
    return {
      state: 'cancelled',
      endReason: result.end === 'idle_timeout' ? 'idle_timeout' : 'timeout',
      error: result.error ?? `The turn reached its time limit (${Math.round(timeoutMs / 60_000)} minutes).`,
    };
  }
  return {
    state: 'failed',
    endReason: 'agent_failed',
    error: run.deps.redactor.redact(result.error ?? 'The agent failed.'),
  };
}

import type { SandboxSession } from '../sandbox/types.js';

/** Forge's events from an agent's output stream (each runner parses its CLI's format). */
export type AgentEvent =
  | { type: 'message'; text: string }
  | { type: 'tool'; name: string; detail?: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'session'; sessionId: string }
  | { type: 'summary'; text: string };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
}

export interface AgentRunInput {
  taskId: string;
  /** The full prompt. Runners pass it by file or stdin: argv and env overflow at ~128 KiB. */
  prompt: string;
  model?: string;
  /** Session to resume, from a previous turn of the same agent. */
  sessionId?: string;
}

export interface AgentRunContext {
  session: SandboxSession;
  signal: AbortSignal;
  timeoutMs: number;
  idleTimeoutMs?: number;
  /** Every raw output line (stdout and stderr), for the event log. */
  onLine(stream: 'stdout' | 'stderr', line: string): void;
  onEvent(event: AgentEvent): void;
}

export type AgentConclusion = 'success' | 'failure' | 'cancelled' | 'timed_out';

export interface AgentResult {
  conclusion: AgentConclusion;
  /** What the agent says it did (PR body). */
  summary?: string;
  sessionId?: string;
  usage?: Usage;
  /** User-facing reason when not successful. */
  error?: string;
  exitCode?: number | null;
}

export interface AgentRunner {
  readonly name: string;
  run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult>;
}

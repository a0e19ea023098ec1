import type { ExecEnd, SandboxSession } from '../sandbox/types.js';

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
  /**
   * The prompt for a new session when `prompt` was written for resuming `sessionId` (it leaves out
   * what that session holds, e.g. the earlier turns' summaries). A runner that cannot resume the
   * session and starts over sends this one instead. Absent: `prompt` serves both.
   */
  freshPrompt?: string;
  model?: string;
  /** Session to resume, from a previous turn of the same agent. */
  sessionId?: string;
}

/**
 * How the agent reaches its model: Forge's model gateway, never the provider directly. Base URLs
 * follow each CLI's own convention (the OpenAI one stands for `.../v1`). The token is valid only at
 * the gateway and only while the turn runs; the real provider keys never enter the sandbox.
 */
export interface ModelAccess {
  /** For `ANTHROPIC_BASE_URL` (requests go to `<base>/v1/messages`). */
  anthropicBaseUrl: string;
  /** For `OPENAI_BASE_URL` and OpenAI-compatible providers (requests go to `<base>/responses`, `<base>/chat/completions`). */
  openaiBaseUrl: string;
  /** For `GOOGLE_GEMINI_BASE_URL` (requests go to `<base>/v1beta/models/...`). */
  geminiBaseUrl: string;
  /** Use as the API key for whichever provider the CLI talks to. */
  token: string;
  /** HTTP(S) proxy for everything else the agent reaches (egress allowlist), as `http://user:pass@host:port`. */
  proxyUrl?: string;
  /** For `NO_PROXY`: the gateway's host, which the agent reaches directly. */
  noProxy?: string;
}

export interface AgentRunContext {
  session: SandboxSession;
  /** Absent only for agents that need no model (the `command` agent). */
  model?: ModelAccess;
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
  /**
   * What the agent says it did (PR body). For a run that was stopped before the agent summed up,
   * its last message, when it wrote one.
   */
  summary?: string;
  sessionId?: string;
  usage?: Usage;
  /** User-facing reason when not successful. */
  error?: string;
  exitCode?: number | null;
  /** How the agent's process ended in the sandbox (tells an idle timeout from the turn's limit). */
  end?: ExecEnd;
}

export interface AgentRunner {
  readonly name: string;
  run(input: AgentRunInput, ctx: AgentRunContext): Promise<AgentResult>;
}

/**
 * A scripted model server for the agent CLIs. Each provider protocol (Anthropic Messages, OpenAI
 * Responses, OpenAI Chat Completions, Gemini) is a module that validates requests strictly,
 * normalizes them into an Exchange, and streams a Reply back in the provider's own format. What to
 * reply is decided by a Brain (brain.ts): by default, from directives in the user's instruction.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

export type Protocol = 'anthropic' | 'openai-responses' | 'openai-chat' | 'gemini';

/** One message of the conversation, normalized across protocols. */
export interface Message {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** Text content; for role `tool`, the tool's output. */
  text: string;
  /** For role `assistant`: a tool call the model made. */
  toolCall?: { name: string; args: unknown };
}

export interface Exchange {
  protocol: Protocol;
  model: string;
  /** Names of the tools the client offered. */
  tools: string[];
  messages: Message[];
  stream: boolean;
}

export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; name: string; args: Record<string, unknown> };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type Brain = (exchange: Exchange) => Reply;

export interface ParsedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for an empty body). */
  body: unknown;
}

export interface ProtocolModule {
  protocol: Protocol;
  matches(method: string, path: string): boolean;
  /** Validates the request as the real API would; errors make the server answer 400 and record a violation. */
  parse(req: ParsedRequest): { exchange: Exchange } | { errors: string[] };
  /** Writes the reply (streamed when the request asked for it) in the provider's format. */
  respond(res: ServerResponse, exchange: Exchange, reply: Reply, usage: Usage): void;
}

export interface RecordedRequest {
  protocol: Protocol;
  path: string;
  headers: IncomingHttpHeaders;
  exchange: Exchange;
  reply: Reply;
  usage: Usage;
}

/**
 * Validation of OpenAI Chat Completions request bodies (`POST /v1/chat/completions`), after the API
 * reference: known parameters only, messages by role (content shapes, `tool_calls` with string
 * `arguments`, `tool_call_id`), every assistant tool call answered by tool messages before the
 * conversation goes on (and no tool message without a call), function tools with valid names,
 * `tool_choice` and `parallel_tool_calls` only with tools, `stream_options` only when streaming.
 */
import { checkToolChoice, checkTools, TOOL_NAME } from './openai-chat-validate-tools.js';
import { at, type Json, type RequestChecks } from './request-checks.js';

const PARAMETERS = [
  'model',
  'messages',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
] as const;

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  toolCallId?: string;
}

export interface ValidChatRequest {
  model: string;
  messages: ChatMessage[];
  tools: string[];
  stream: boolean;
  includeUsage: boolean;
}

export function validateChatRequest(checks: RequestChecks, body: unknown): ValidChatRequest | undefined {
  if (!checks.object('body', body)) return undefined;
  checks.onlyKeys('', body, PARAMETERS);
  if (body.model === undefined) checks.fail('model', 'is required');
  else checks.string('model', body.model, { pattern: /^\S+$/ });
  const messages = checkMessages(checks, body.messages);
  const tools = body.tools === undefined ? undefined : checkTools(checks, body.tools);
  if (body.tool_choice !== undefined) checkToolChoice(checks, body.tool_choice, tools);
  if (body.parallel_tool_calls !== undefined) {
    checks.boolean('parallel_tool_calls', body.parallel_tool_calls);
    if (!tools) checks.fail('parallel_tool_calls', "is only allowed when 'tools' are specified");
  }
  if (body.stream !== undefined) checks.boolean('stream', body.stream);
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (body.stream !== true) checks.fail('stream_options', "is only allowed when 'stream' is enabled");
    if (checks.object('stream_options', body.stream_options)) {
      checks.onlyKeys('stream_options', body.stream_options, ['include_usage', 'include_obfuscation']);
      checks.optional(body.stream_options, 'stream_options', {
        include_usage: (p, v) => checks.boolean(p, v),
        include_obfuscation: (p, v) => checks.boolean(p, v),
      });
    }
  }
  checks.optional(body, '', {
    temperature: (p, v) => checks.number(p, v, { min: 0, max: 2 }),
    top_p: (p, v) => checks.number(p, v, { min: 0, max: 1 }),
    n: (p, v) => checks.number(p, v, { min: 1, max: 128, integer: true }),
    max_tokens: (p, v) => checks.number(p, v, { min: 1, integer: true }),
    max_completion_tokens: (p, v) => checks.number(p, v, { min: 1, integer: true }),
    presence_penalty: (p, v) => checks.number(p, v, { min: -2, max: 2 }),
    frequency_penalty: (p, v) => checks.number(p, v, { min: -2, max: 2 }),
    seed: (p, v) => checks.number(p, v, { integer: true }),
    reasoning_effort: (p, v) => checks.oneOf(p, v, ['none', 'minimal', 'low', 'medium', 'high', 'xhigh']),
    verbosity: (p, v) => checks.oneOf(p, v, ['low', 'medium', 'high']),
    user: (p, v) => checks.string(p, v),
    store: (p, v) => checks.boolean(p, v),
    logprobs: (p, v) => checks.boolean(p, v),
    response_format: (p, v) => {
      if (!checks.object(p, v)) return;
      checks.oneOf(at(p, 'type'), v.type, ['text', 'json_object', 'json_schema']);
    },
    stop: (p, v) => {
      if (typeof v === 'string' || v === null) return;
      if (checks.array(p, v) && v.length > 4) checks.fail(p, 'at most 4 stop sequences');
    },
  });
  if (checks.errors.length || !messages) return undefined;
  const options = body.stream_options as Json | undefined;
  return {
    model: body.model as string,
    messages,
    tools: tools ?? [],
    stream: body.stream === true,
    includeUsage: options?.include_usage === true,
  };
}

function checkMessages(checks: RequestChecks, value: unknown): ChatMessage[] | undefined {
  if (value === undefined) return checks.fail('messages', 'is required') || undefined;
  if (!checks.array('messages', value, { nonEmpty: true })) return undefined;
  const messages: ChatMessage[] = [];
  value.forEach((m, i) => {
    const message = checkMessage(checks, at('messages', i), m);
    if (message) messages.push(message);
  });
  if (messages.length !== value.length) return undefined;
  checkToolRounds(checks, messages);
  return messages;
}

function checkMessage(checks: RequestChecks, path: string, m: unknown): ChatMessage | undefined {
  if (!checks.object(path, m)) return undefined;
  const roles = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
  if (!checks.oneOf(at(path, 'role'), m.role, roles)) return undefined;
  const role = m.role;
  if (m.name !== undefined) checks.string(at(path, 'name'), m.name);
  switch (role) {
    case 'system':
    case 'developer':
    case 'user': {
      checks.onlyKeys(path, m, ['role', 'content', 'name']);
      const text = checkContent(
        checks,
        at(path, 'content'),
        m.content,
        role === 'user' ? USER_PARTS : ['text'],
      );
      return text === undefined ? undefined : { role, text, toolCalls: [] };
    }
    case 'tool': {
      checks.onlyKeys(path, m, ['role', 'content', 'tool_call_id']);
      if (!checks.string(at(path, 'tool_call_id'), m.tool_call_id)) return undefined;
      const text = checkContent(checks, at(path, 'content'), m.content, ['text']);
      return text === undefined ? undefined : { role, text, toolCalls: [], toolCallId: m.tool_call_id };
    }
    case 'assistant': {
      checks.onlyKeys(path, m, [
        'role',
        'content',
        'name',
        'tool_calls',
        'refusal',
        'audio',
        'function_call',
      ]);
      const toolCalls =
        m.tool_calls === undefined ? [] : checkToolCalls(checks, at(path, 'tool_calls'), m.tool_calls);
      if (m.refusal !== undefined && m.refusal !== null) checks.string(at(path, 'refusal'), m.refusal);
      let text = '';
      if (m.content === undefined || m.content === null) {
        if (toolCalls.length === 0 && m.function_call === undefined && m.audio === undefined) {
          checks.fail(at(path, 'content'), "is required unless 'tool_calls' or 'function_call' is specified");
        }
      } else {
        const found = checkContent(checks, at(path, 'content'), m.content, ['text', 'refusal']);
        if (found === undefined) return undefined;
        text = found;
      }
      return { role, text, toolCalls };
    }
  }
}

const USER_PARTS = ['text', 'image_url', 'input_audio', 'file'];

/** A string, or an array of typed content parts; returns the text. */
function checkContent(
  checks: RequestChecks,
  path: string,
  value: unknown,
  types: string[],
): string | undefined {
  if (typeof value === 'string') return value;
  if (!checks.array(path, value, { nonEmpty: true })) return undefined;
  const texts: string[] = [];
  for (const [i, part] of value.entries()) {
    const p = at(path, i);
    if (!checks.object(p, part)) return undefined;
    if (!checks.oneOf(at(p, 'type'), part.type, types)) return undefined;
    if (part.type === 'text') {
      checks.onlyKeys(p, part, ['type', 'text']);
      if (checks.string(at(p, 'text'), part.text)) texts.push(part.text);
    } else if (part.type === 'image_url') {
      checks.onlyKeys(p, part, ['type', 'image_url']);
      if (checks.object(at(p, 'image_url'), part.image_url))
        checks.string(at(p, 'image_url.url'), part.image_url.url);
    }
  }
  return texts.join('\n');
}

function checkToolCalls(checks: RequestChecks, path: string, value: unknown): ChatMessage['toolCalls'] {
  if (!checks.array(path, value, { nonEmpty: true })) return [];
  const calls: ChatMessage['toolCalls'] = [];
  value.forEach((call, i) => {
    const p = at(path, i);
    if (!checks.object(p, call)) return;
    checks.onlyKeys(p, call, ['id', 'type', 'function']);
    const id = checks.string(at(p, 'id'), call.id) ? call.id : '';
    checks.oneOf(at(p, 'type'), call.type, ['function']);
    if (!checks.object(at(p, 'function'), call.function)) return;
    const fn = call.function;
    checks.onlyKeys(at(p, 'function'), fn, ['name', 'arguments']);
    const name = checks.string(at(p, 'function.name'), fn.name, { pattern: TOOL_NAME }) ? fn.name : '';
    if (!checks.string(at(p, 'function.arguments'), fn.arguments)) return;
    try {
      JSON.parse(fn.arguments);
    } catch {
      checks.fail(at(p, 'function.arguments'), 'is not valid JSON');
    }
    calls.push({ id, name, arguments: fn.arguments });
  });
  return calls;
}

/**
 * "An assistant message with 'tool_calls' must be followed by tool messages responding to each
 * 'tool_call_id'" and "messages with role 'tool' must be a response to a preceding message with
 * 'tool_calls'".
 */
function checkToolRounds(checks: RequestChecks, messages: ChatMessage[]): void {
  let open: Set<string> | undefined;
  let openAt = -1;
  const closeRound = () => {
    if (open?.size) {
      checks.fail(
        at('messages', openAt),
        `tool_calls without response messages: ${[...open].join(', ')} (an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id')`,
      );
    }
    open = undefined;
  };
  messages.forEach((m, i) => {
    if (m.role === 'tool') {
      if (!open?.has(m.toolCallId ?? '')) {
        checks.fail(
          at('messages', i),
          `tool message for ${JSON.stringify(m.toolCallId)} is not a response to a preceding message with 'tool_calls'`,
        );
      } else {
        open.delete(m.toolCallId ?? '');
      }
      return;
    }
    closeRound();
    if (m.role === 'assistant' && m.toolCalls.length) {
      const ids = m.toolCalls.map((c) => c.id);
      if (new Set(ids).size !== ids.length) checks.fail(at('messages', i), 'duplicate tool call ids');
      open = new Set(ids);
      openAt = i;
    }
  });
  closeRound();
}

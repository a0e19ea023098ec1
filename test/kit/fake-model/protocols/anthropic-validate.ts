/**
 * Validation of an Anthropic Messages API request (`POST /v1/messages`), with the rules the real API
 * enforces and answers with `400 invalid_request_error`: required fields, unknown fields, roles,
 * content block types per role, tool definitions, the tool_use ↔ tool_result pairing between
 * neighbouring messages, thinking budgets and the cache breakpoint limit.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isObject, type JsonObject, join, Problems } from './strict-json.js';

const TOP_LEVEL = [
  'model',
  'messages',
  'max_tokens',
  'system',
  'tools',
  'tool_choice',
  'stream',
  'metadata',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'thinking',
  'context_management',
  'service_tier',
  'container',
  'mcp_servers',
  'output_config',
  'output_format',
] as const;

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const TOOL_USE_ID = /^[a-zA-Z0-9_-]+$/;
const USER_BLOCKS = ['text', 'image', 'document', 'tool_result', 'search_result'] as const;
const ASSISTANT_BLOCKS = [
  'text',
  'tool_use',
  'thinking',
  'redacted_thinking',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
] as const;
const TOOL_RESULT_BLOCKS = ['text', 'image', 'document', 'search_result'] as const;
/** The API allows at most this many `cache_control` breakpoints per request. */
const MAX_CACHE_BREAKPOINTS = 4;

export function validateHeaders(headers: IncomingHttpHeaders, problems: Problems): void {
  const auth = headers.authorization;
  if (!headers['x-api-key'] && !(typeof auth === 'string' && /^Bearer \S+$/.test(auth))) {
    problems.add('headers', 'authentication_error: x-api-key header is required');
  }
  if (!headers['anthropic-version']) problems.add('headers', 'anthropic-version: header is required');
  if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
    problems.add('headers', 'content-type must be application/json');
  }
}

export function validateMessagesRequest(body: unknown, headers: IncomingHttpHeaders): Problems {
  const p = new Problems();
  validateHeaders(headers, p);
  if (!p.object('body', body)) return p;
  p.keys('', body, TOP_LEVEL);
  p.string('model', body.model, { nonEmpty: true });
  p.number('max_tokens', body.max_tokens, { integer: true, min: 1 });
  if (body.stream !== undefined) p.boolean('stream', body.stream);
  if (body.temperature !== undefined) p.number('temperature', body.temperature, { min: 0, max: 1 });
  if (body.top_p !== undefined) p.number('top_p', body.top_p, { min: 0, max: 1 });
  if (body.top_k !== undefined) p.number('top_k', body.top_k, { integer: true, min: 0 });
  if (body.stop_sequences !== undefined && p.array('stop_sequences', body.stop_sequences)) {
    body.stop_sequences.forEach((s, i) => {
      p.string(`stop_sequences.${i}`, s);
    });
  }
  if (body.metadata !== undefined && p.object('metadata', body.metadata)) {
    p.keys('metadata', body.metadata, ['user_id']);
    if (body.metadata.user_id !== undefined) p.string('metadata.user_id', body.metadata.user_id);
  }
  const betas = String(headers['anthropic-beta'] ?? '')
    .split(',')
    .map((b) => b.trim());
  if (body.context_management !== undefined) {
    if (!betas.some((b) => b.startsWith('context-management-'))) {
      p.add('context_management', 'requires the context-management beta header');
    }
    if (
      p.object('context_management', body.context_management) &&
      body.context_management.edits !== undefined
    ) {
      if (p.array('context_management.edits', body.context_management.edits)) {
        body.context_management.edits.forEach((e, i) => {
          if (p.object(`context_management.edits.${i}`, e))
            p.string(`context_management.edits.${i}.type`, e.type);
        });
      }
    }
  }
  validateThinking(body, betas, p);
  if (body.output_config !== undefined)
    validateOutputConfig('output_config', body.output_config, betas, p, ['effort', 'format']);
  let breakpoints = 0;
  const countCache = (path: string, block: JsonObject) => {
    if (block.cache_control === undefined) return;
    breakpoints++;
    if (p.object(join(path, 'cache_control'), block.cache_control)) {
      p.oneOf(join(path, 'cache_control.type'), block.cache_control.type, ['ephemeral']);
      if (block.cache_control.ttl !== undefined) {
        p.oneOf(join(path, 'cache_control.ttl'), block.cache_control.ttl, ['5m', '1h']);
      }
    }
  };
  validateSystem(body.system, p, countCache);
  const toolNames = validateTools(body.tools, p, countCache);
  validateToolChoice(body.tool_choice, toolNames, p);
  if (p.array('messages', body.messages, { nonEmpty: true })) {
    validateMessages(body.messages, toolNames, betas, p, countCache);
  }
  if (breakpoints > MAX_CACHE_BREAKPOINTS) {
    p.add(
      '',
      `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`,
    );
  }
  return p;
}

function validateThinking(body: JsonObject, betas: string[], p: Problems): void {
  if (body.thinking === undefined) return;
  if (!p.object('thinking', body.thinking)) return;
  const { thinking } = body;
  if (!p.oneOf('thinking.type', thinking.type, ['enabled', 'disabled', 'adaptive'])) return;
  if (thinking.type === 'enabled') {
    p.keys('thinking', thinking, ['type', 'budget_tokens', 'display']);
    if (p.number('thinking.budget_tokens', thinking.budget_tokens, { integer: true, min: 1024 })) {
      // With interleaved thinking the budget may exceed max_tokens (it spans the whole turn).
      const interleaved = betas.some((b) => b.startsWith('interleaved-thinking-'));
      if (!interleaved && typeof body.max_tokens === 'number' && thinking.budget_tokens >= body.max_tokens) {
        p.add('thinking.budget_tokens', '`max_tokens` must be greater than `thinking.budget_tokens`');
      }
    }
    if (body.temperature !== undefined && body.temperature !== 1) {
      p.add('temperature', 'may only be set to 1 when thinking is enabled');
    }
  } else {
    p.keys('thinking', thinking, ['type', 'display']);
  }
  if (thinking.display !== undefined) p.string('thinking.display', thinking.display);
}

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;

function validateOutputConfig(
  path: string,
  config: unknown,
  betas: string[],
  p: Problems,
  keys: string[],
): void {
  if (!p.object(path, config)) return;
  p.keys(path, config, keys);
  if (config.effort !== undefined) {
    p.oneOf(`${path}.effort`, config.effort, EFFORTS);
    if (!betas.some((b) => b.startsWith('effort-')))
      p.add(`${path}.effort`, 'requires the effort beta header');
  }
}

/**
 * A `role: "system"` entry in `messages` (mid-conversation instructions or a per-turn effort change)
 * exists only behind the per-turn / mid-conversation betas; its content may be empty when it only
 * carries `output_config`.
 */
function validateSystemMessage(message: JsonObject, path: string, betas: string[], p: Problems): void {
  if (!betas.some((b) => b.startsWith('per-turn-control-') || b.startsWith('mid-conversation-'))) {
    p.add(`${path}.role`, '"system" messages require the per-turn-control or mid-conversation beta header');
  }
  p.keys(path, message, ['role', 'content', 'output_config', 'clear_at']);
  if (message.output_config !== undefined)
    validateOutputConfig(`${path}.output_config`, message.output_config, betas, p, ['effort']);
  if (message.clear_at !== undefined) p.string(`${path}.clear_at`, message.clear_at);
  const { content } = message;
  if (typeof content === 'string') return;
  if (!p.array(`${path}.content`, content)) return;
  if (content.length === 0 && message.output_config === undefined)
    p.add(`${path}.content`, 'must not be empty');
  content.forEach((block, j) => {
    const bpath = `${path}.content.${j}`;
    if (p.object(bpath, block) && p.oneOf(`${bpath}.type`, block.type, ['text']))
      validateBlock(block, bpath, p);
  });
}

type CacheCounter = (path: string, block: JsonObject) => void;

function validateSystem(system: unknown, p: Problems, countCache: CacheCounter): void {
  if (system === undefined || typeof system === 'string') return;
  if (!p.array('system', system)) return;
  system.forEach((block, i) => {
    const path = `system.${i}`;
    if (!p.object(path, block)) return;
    p.keys(path, block, ['type', 'text', 'cache_control', 'citations']);
    p.oneOf(`${path}.type`, block.type, ['text']);
    p.string(`${path}.text`, block.text, { nonEmpty: true });
    countCache(path, block);
  });
}

/** Returns the names of the client (custom) tools. */
function validateTools(tools: unknown, p: Problems, countCache: CacheCounter): Set<string> {
  const names = new Set<string>();
  if (tools === undefined) return names;
  if (!p.array('tools', tools)) return names;
  tools.forEach((tool, i) => {
    const path = `tools.${i}`;
    if (!p.object(path, tool)) return;
    countCache(path, tool);
    const serverTool = typeof tool.type === 'string' && tool.type !== 'custom';
    if (serverTool) {
      // Server tools (web_search_20250305, bash_20250124, …) carry a dated type and a fixed name.
      p.string(`${path}.type`, tool.type, { pattern: /^[a-z_]+_\d{8}$/ });
      p.string(`${path}.name`, tool.name, { pattern: TOOL_NAME });
    } else {
      p.keys(path, tool, [
        'type',
        'name',
        'description',
        'input_schema',
        'cache_control',
        'defer_loading',
        'strict',
        'input_examples',
        'eager_input_streaming',
      ]);
      p.string(`${path}.name`, tool.name, { pattern: TOOL_NAME });
      if (tool.description !== undefined) p.string(`${path}.description`, tool.description);
      p.objectSchema(`${path}.input_schema`, tool.input_schema);
      if (tool.defer_loading !== undefined) p.boolean(`${path}.defer_loading`, tool.defer_loading);
      if (tool.strict !== undefined) p.boolean(`${path}.strict`, tool.strict);
    }
    if (typeof tool.name === 'string') {
      if (names.has(tool.name)) p.add(`${path}.name`, `Tool names must be unique: ${tool.name}`);
      names.add(tool.name);
    }
  });
  return names;
}

function validateToolChoice(choice: unknown, toolNames: Set<string>, p: Problems): void {
  if (choice === undefined) return;
  if (!p.object('tool_choice', choice)) return;
  if (!p.oneOf('tool_choice.type', choice.type, ['auto', 'any', 'tool', 'none'])) return;
  p.keys('tool_choice', choice, ['type', 'name', 'disable_parallel_tool_use']);
  if (choice.type === 'tool' && p.string('tool_choice.name', choice.name) && !toolNames.has(choice.name)) {
    p.add('tool_choice.name', `tool ${choice.name} is not among the tools`);
  }
}

function validateMessages(
  messages: unknown[],
  toolNames: Set<string>,
  betas: string[],
  p: Problems,
  countCache: CacheCounter,
): void {
  let usesTools = false;
  /** tool_use ids of the previous message (when it was the assistant's), awaiting their results. */
  let pending: string[] = [];
  let pendingAt = -1;
  const seenToolUseIds = new Set<string>();
  messages.forEach((message, i) => {
    const path = `messages.${i}`;
    if (!p.object(path, message)) return;
    if (!p.oneOf(`${path}.role`, message.role, ['user', 'assistant', 'system'])) return;
    if (message.role === 'system') {
      // Not a conversational turn: tool_use / tool_result pairing looks through it.
      validateSystemMessage(message, path, betas, p);
      return;
    }
    p.keys(path, message, ['role', 'content']);
    const last = i === messages.length - 1;
    const blocks = contentBlocks(message.content, path, p, message.role === 'assistant' && last);
    if (!blocks) return;
    const allowed = message.role === 'user' ? USER_BLOCKS : ASSISTANT_BLOCKS;
    const results: string[] = [];
    let sawOther = false;
    blocks.forEach((block, j) => {
      const bpath = `${path}.content.${j}`;
      if (!p.object(bpath, block)) return;
      if (!p.oneOf(`${bpath}.type`, block.type, allowed)) return;
      countCache(bpath, block);
      validateBlock(block, bpath, p);
      if (block.type === 'tool_use') {
        usesTools = true;
        if (typeof block.id === 'string') {
          if (seenToolUseIds.has(block.id)) p.add(`${bpath}.id`, `duplicate tool_use id ${block.id}`);
          seenToolUseIds.add(block.id);
        }
      }
      if (block.type === 'tool_result') {
        usesTools = true;
        if (sawOther) p.add(bpath, 'tool_result blocks must come before any other content in the message');
        const id = String(block.tool_use_id);
        if (!pending.includes(id)) {
          p.add(
            bpath,
            `unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
          );
        }
        results.push(id);
      } else {
        sawOther = true;
      }
    });
    if (pending.length) {
      const missing = pending.filter((id) => !results.includes(id));
      if (missing.length) {
        p.add(
          `messages.${pendingAt}`,
          `\`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    pending = [];
    if (message.role === 'assistant') {
      pending = blocks
        .filter((b) => isObject(b) && b.type === 'tool_use')
        .map((b) => String((b as JsonObject).id));
      pendingAt = i;
    }
  });
  if (usesTools && toolNames.size === 0) {
    p.add('tools', 'Requests which include `tool_use` or `tool_result` blocks must define tools.');
  }
}

/** Normalizes string content to one text block; checks non-emptiness like the API does. */
function contentBlocks(
  content: unknown,
  path: string,
  p: Problems,
  finalAssistant: boolean,
): unknown[] | undefined {
  if (typeof content === 'string') {
    if (!content && !finalAssistant)
      p.add(
        `${path}.content`,
        'all messages must have non-empty content except for the optional final assistant message',
      );
    return [{ type: 'text', text: content || ' ' }];
  }
  if (!p.array(`${path}.content`, content)) return undefined;
  if (content.length === 0 && !finalAssistant) {
    p.add(
      `${path}.content`,
      'all messages must have non-empty content except for the optional final assistant message',
    );
  }
  return content;
}

function validateBlock(block: JsonObject, path: string, p: Problems): void {
  switch (block.type) {
    case 'text':
      p.keys(path, block, ['type', 'text', 'cache_control', 'citations']);
      p.string(`${path}.text`, block.text, { nonEmpty: true });
      break;
    case 'image':
    case 'document':
      p.keys(path, block, ['type', 'source', 'cache_control', 'title', 'context', 'citations']);
      if (p.object(`${path}.source`, block.source)) {
        p.oneOf(`${path}.source.type`, block.source.type, ['base64', 'url', 'text', 'content', 'file']);
      }
      break;
    case 'tool_use':
      p.keys(path, block, ['type', 'id', 'name', 'input', 'cache_control', 'caller']);
      p.string(`${path}.id`, block.id, { pattern: TOOL_USE_ID });
      p.string(`${path}.name`, block.name, { pattern: TOOL_NAME });
      p.object(`${path}.input`, block.input);
      break;
    case 'tool_result':
      p.keys(path, block, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control']);
      p.string(`${path}.tool_use_id`, block.tool_use_id, { pattern: TOOL_USE_ID });
      if (block.is_error !== undefined) p.boolean(`${path}.is_error`, block.is_error);
      if (
        block.content !== undefined &&
        typeof block.content !== 'string' &&
        p.array(`${path}.content`, block.content)
      ) {
        block.content.forEach((inner, k) => {
          const ipath = `${path}.content.${k}`;
          if (p.object(ipath, inner) && p.oneOf(`${ipath}.type`, inner.type, TOOL_RESULT_BLOCKS)) {
            validateBlock(inner, ipath, p);
          }
        });
      }
      break;
    case 'thinking':
      p.keys(path, block, ['type', 'thinking', 'signature']);
      p.string(`${path}.thinking`, block.thinking);
      p.string(`${path}.signature`, block.signature);
      break;
    case 'redacted_thinking':
      p.keys(path, block, ['type', 'data']);
      p.string(`${path}.data`, block.data);
      break;
    case 'search_result':
      p.string(`${path}.source`, block.source);
      p.string(`${path}.title`, block.title);
      p.array(`${path}.content`, block.content);
      break;
    default:
      // Server tool blocks: only their id matters for pairing, which the server resolves itself.
      break;
  }
}

/**
 * Validation of an Anthropic Messages API request (`POST /v1/messages`), with the rules the real API
 * enforces and answers with `400 invalid_request_error`: required fields, unknown fields, headers,
 * tool definitions, thinking budgets, beta-gated features and the cache breakpoint limit. The
 * messages themselves are checked in anthropic-messages.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  type CacheCounter,
  TOOL_NAME,
  validateMessages,
  validateOutputConfig,
} from './anthropic-messages.js';
import { at, type Json, RequestChecks } from './request-checks.js';

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

/** The API allows at most this many `cache_control` breakpoints per request. */
const MAX_CACHE_BREAKPOINTS = 4;

export function validateHeaders(headers: IncomingHttpHeaders, problems: RequestChecks): void {
  const auth = headers.authorization;
  if (!headers['x-api-key'] && !(typeof auth === 'string' && /^Bearer \S+$/.test(auth))) {
    problems.fail('headers', 'authentication_error: x-api-key header is required');
  }
  if (!headers['anthropic-version']) problems.fail('headers', 'anthropic-version: header is required');
  if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
    problems.fail('headers', 'content-type must be application/json');
  }
}

export function validateMessagesRequest(body: unknown, headers: IncomingHttpHeaders): RequestChecks {
  const p = new RequestChecks();
  validateHeaders(headers, p);
  if (!p.object('body', body)) return p;
  p.onlyKeys('', body, TOP_LEVEL);
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
    p.onlyKeys('metadata', body.metadata, ['user_id']);
    if (body.metadata.user_id !== undefined) p.string('metadata.user_id', body.metadata.user_id);
  }
  const betas = String(headers['anthropic-beta'] ?? '')
    .split(',')
    .map((b) => b.trim());
  if (body.context_management !== undefined) {
    if (!betas.some((b) => b.startsWith('context-management-'))) {
      p.fail('context_management', 'requires the context-management beta header');
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
  const countCache = (path: string, block: Json) => {
    if (block.cache_control === undefined) return;
    breakpoints++;
    if (p.object(at(path, 'cache_control'), block.cache_control)) {
      p.oneOf(at(path, 'cache_control.type'), block.cache_control.type, ['ephemeral']);
      if (block.cache_control.ttl !== undefined) {
        p.oneOf(at(path, 'cache_control.ttl'), block.cache_control.ttl, ['5m', '1h']);
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
    p.fail(
      '',
      `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`,
    );
  }
  return p;
}

function validateThinking(body: Json, betas: string[], p: RequestChecks): void {
  if (body.thinking === undefined) return;
  if (!p.object('thinking', body.thinking)) return;
  const { thinking } = body;
  if (!p.oneOf('thinking.type', thinking.type, ['enabled', 'disabled', 'adaptive'])) return;
  if (thinking.type === 'enabled') {
    p.onlyKeys('thinking', thinking, ['type', 'budget_tokens', 'display']);
    if (p.number('thinking.budget_tokens', thinking.budget_tokens, { integer: true, min: 1024 })) {
      // With interleaved thinking the budget may exceed max_tokens (it spans the whole turn).
      const interleaved = betas.some((b) => b.startsWith('interleaved-thinking-'));
      if (!interleaved && typeof body.max_tokens === 'number' && thinking.budget_tokens >= body.max_tokens) {
        p.fail('thinking.budget_tokens', '`max_tokens` must be greater than `thinking.budget_tokens`');
      }
    }
    if (body.temperature !== undefined && body.temperature !== 1) {
      p.fail('temperature', 'may only be set to 1 when thinking is enabled');
    }
  } else {
    p.onlyKeys('thinking', thinking, ['type', 'display']);
  }
  if (thinking.display !== undefined) p.string('thinking.display', thinking.display);
}

function validateSystem(system: unknown, p: RequestChecks, countCache: CacheCounter): void {
  if (system === undefined || typeof system === 'string') return;
  if (!p.array('system', system)) return;
  system.forEach((block, i) => {
    const path = `system.${i}`;
    if (!p.object(path, block)) return;
    p.onlyKeys(path, block, ['type', 'text', 'cache_control', 'citations']);
    p.oneOf(`${path}.type`, block.type, ['text']);
    p.string(`${path}.text`, block.text, { nonEmpty: true });
    countCache(path, block);
  });
}

/** Returns the names of the client (custom) tools. */
function validateTools(tools: unknown, p: RequestChecks, countCache: CacheCounter): Set<string> {
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
      p.onlyKeys(path, tool, [
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
      if (names.has(tool.name)) p.fail(`${path}.name`, `Tool names must be unique: ${tool.name}`);
      names.add(tool.name);
    }
  });
  return names;
}

function validateToolChoice(choice: unknown, toolNames: Set<string>, p: RequestChecks): void {
  if (choice === undefined) return;
  if (!p.object('tool_choice', choice)) return;
  if (!p.oneOf('tool_choice.type', choice.type, ['auto', 'any', 'tool', 'none'])) return;
  p.onlyKeys('tool_choice', choice, ['type', 'name', 'disable_parallel_tool_use']);
  if (choice.type === 'tool' && p.string('tool_choice.name', choice.name) && !toolNames.has(choice.name)) {
    p.fail('tool_choice.name', `tool ${choice.name} is not among the tools`);
  }
}

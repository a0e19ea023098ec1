/**
 * Anthropic Messages API: validation of the `messages` list — roles, content block types per role,
 * the tool_use ↔ tool_result pairing between neighbouring messages, and `role: "system"` entries of
 * the per-turn betas — as the real API answers with `400 invalid_request_error`.
 */
import { isJsonObject, type Json, type RequestChecks } from './request-checks.js';

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
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
const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;

export function validateOutputConfig(
  path: string,
  config: unknown,
  betas: string[],
  p: RequestChecks,
  keys: string[],
): void {
  if (!p.object(path, config)) return;
  p.onlyKeys(path, config, keys);
  if (config.effort !== undefined) {
    p.oneOf(`${path}.effort`, config.effort, EFFORTS);
    if (!betas.some((b) => b.startsWith('effort-')))
      p.fail(`${path}.effort`, 'requires the effort beta header');
  }
}

/**
 * A `role: "system"` entry in `messages` (mid-conversation instructions or a per-turn effort change)
 * exists only behind the per-turn / mid-conversation betas; its content may be empty when it only
 * carries `output_config`.
 */
function validateSystemMessage(message: Json, path: string, betas: string[], p: RequestChecks): void {
  if (!betas.some((b) => b.startsWith('per-turn-control-') || b.startsWith('mid-conversation-'))) {
    p.fail(`${path}.role`, '"system" messages require the per-turn-control or mid-conversation beta header');
  }
  p.onlyKeys(path, message, ['role', 'content', 'output_config', 'clear_at']);
  if (message.output_config !== undefined)
    validateOutputConfig(`${path}.output_config`, message.output_config, betas, p, ['effort']);
  if (message.clear_at !== undefined) p.string(`${path}.clear_at`, message.clear_at);
  const { content } = message;
  if (typeof content === 'string') return;
  if (!p.array(`${path}.content`, content)) return;
  if (content.length === 0 && message.output_config === undefined)
    p.fail(`${path}.content`, 'must not be empty');
  content.forEach((block, j) => {
    const bpath = `${path}.content.${j}`;
    if (p.object(bpath, block) && p.oneOf(`${bpath}.type`, block.type, ['text']))
      validateBlock(block, bpath, p);
  });
}

export type CacheCounter = (path: string, block: Json) => void;

export function validateMessages(
  messages: unknown[],
  toolNames: Set<string>,
  betas: string[],
  p: RequestChecks,
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
    p.onlyKeys(path, message, ['role', 'content']);
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
          if (seenToolUseIds.has(block.id)) p.fail(`${bpath}.id`, `duplicate tool_use id ${block.id}`);
          seenToolUseIds.add(block.id);
        }
      }
      if (block.type === 'tool_result') {
        usesTools = true;
        if (sawOther) p.fail(bpath, 'tool_result blocks must come before any other content in the message');
        const id = String(block.tool_use_id);
        if (!pending.includes(id)) {
          p.fail(
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
        p.fail(
          `messages.${pendingAt}`,
          `\`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    pending = [];
    if (message.role === 'assistant') {
      pending = blocks
        .filter((b) => isJsonObject(b) && b.type === 'tool_use')
        .map((b) => String((b as Json).id));
      pendingAt = i;
    }
  });
  if (usesTools && toolNames.size === 0) {
    p.fail('tools', 'Requests which include `tool_use` or `tool_result` blocks must define tools.');
  }
}

/** Normalizes string content to one text block; checks non-emptiness like the API does. */
function contentBlocks(
  content: unknown,
  path: string,
  p: RequestChecks,
  finalAssistant: boolean,
): unknown[] | undefined {
  if (typeof content === 'string') {
    if (!content && !finalAssistant)
      p.fail(
        `${path}.content`,
        'all messages must have non-empty content except for the optional final assistant message',
      );
    return [{ type: 'text', text: content || ' ' }];
  }
  if (!p.array(`${path}.content`, content)) return undefined;
  if (content.length === 0 && !finalAssistant) {
    p.fail(
      `${path}.content`,
      'all messages must have non-empty content except for the optional final assistant message',
    );
  }
  return content;
}

function validateBlock(block: Json, path: string, p: RequestChecks): void {
  switch (block.type) {
    case 'text':
      p.onlyKeys(path, block, ['type', 'text', 'cache_control', 'citations']);
      p.string(`${path}.text`, block.text, { nonEmpty: true });
      break;
    case 'image':
    case 'document':
      p.onlyKeys(path, block, ['type', 'source', 'cache_control', 'title', 'context', 'citations']);
      if (p.object(`${path}.source`, block.source)) {
        p.oneOf(`${path}.source.type`, block.source.type, ['base64', 'url', 'text', 'content', 'file']);
      }
      break;
    case 'tool_use':
      p.onlyKeys(path, block, ['type', 'id', 'name', 'input', 'cache_control', 'caller']);
      p.string(`${path}.id`, block.id, { pattern: TOOL_USE_ID });
      p.string(`${path}.name`, block.name, { pattern: TOOL_NAME });
      p.object(`${path}.input`, block.input);
      break;
    case 'tool_result':
      p.onlyKeys(path, block, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control']);
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
      p.onlyKeys(path, block, ['type', 'thinking', 'signature']);
      p.string(`${path}.thinking`, block.thinking);
      p.string(`${path}.signature`, block.signature);
      break;
    case 'redacted_thinking':
      p.onlyKeys(path, block, ['type', 'data']);
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

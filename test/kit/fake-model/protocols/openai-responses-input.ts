/**
 * OpenAI Responses API: validation of the `input` items — item types, message roles and content part
 * types per role, and tool outputs that must answer an earlier call (and calls that must have their
 * output, since Codex sends the whole history with `store: false`) — as the real API answers with
 * `400 invalid_request_error`.
 */
import { validateTools } from './openai-responses-tools.js';
import { at, type Json, type RequestChecks } from './request-checks.js';

const ITEM_TYPES = [
  'message',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'reasoning',
  'web_search_call',
  'local_shell_call',
  'local_shell_call_output',
  'tool_search_call',
  'tool_search_output',
  'compaction',
  'item_reference',
  // Tool definitions sent as part of the input (how Codex offers tools to its newer models).
  'additional_tools',
] as const;
const INPUT_PARTS = ['input_text', 'input_image', 'input_file'] as const;
const OUTPUT_PARTS = ['output_text', 'refusal'] as const;

export function validateInput(items: unknown[], p: RequestChecks): void {
  /** call_id → index of the call item, until its output arrives. */
  const open = new Map<string, { kind: 'function' | 'custom'; at: number }>();
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const path = `input.${i}`;
    if (!p.object(path, item)) return;
    // An "easy input message" may omit type.
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    if (!p.oneOf(`${path}.type`, type, ITEM_TYPES)) return;
    switch (type) {
      case 'message':
        validateMessage(item, path, p);
        break;
      case 'function_call':
      case 'custom_tool_call': {
        const kind = type === 'function_call' ? 'function' : 'custom';
        p.onlyKeys(path, item, [
          'type',
          'id',
          'call_id',
          'name',
          kind === 'function' ? 'arguments' : 'input',
          'status',
          'namespace',
        ]);
        p.string(`${path}.name`, item.name, { nonEmpty: true });
        if (kind === 'function' && p.string(`${path}.arguments`, item.arguments)) {
          try {
            JSON.parse(item.arguments);
          } catch {
            p.fail(`${path}.arguments`, 'is not valid JSON');
          }
        }
        if (kind === 'custom') p.string(`${path}.input`, item.input);
        if (p.string(`${path}.call_id`, item.call_id, { nonEmpty: true })) {
          if (seen.has(item.call_id)) p.fail(`${path}.call_id`, `Duplicate call_id ${item.call_id}`);
          seen.add(item.call_id);
          open.set(item.call_id, { kind, at: i });
        }
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const kind = type === 'function_call_output' ? 'function' : 'custom';
        p.onlyKeys(path, item, ['type', 'id', 'call_id', 'output', 'status']);
        if (typeof item.output !== 'string') p.array(`${path}.output`, item.output);
        if (!p.string(`${path}.call_id`, item.call_id, { nonEmpty: true })) break;
        const call = open.get(item.call_id);
        if (!call || call.kind !== kind) {
          p.fail(`${path}.call_id`, `No tool call found for ${type} with call_id ${item.call_id}.`);
        } else open.delete(item.call_id);
        break;
      }
      case 'additional_tools':
        p.onlyKeys(path, item, ['type', 'id', 'role', 'tools']);
        if (item.role !== undefined) p.oneOf(`${path}.role`, item.role, ['developer', 'system']);
        validateTools(item.tools, `${path}.tools`, p);
        break;
      case 'reasoning':
        p.onlyKeys(path, item, ['type', 'id', 'summary', 'content', 'encrypted_content', 'status']);
        p.array(`${path}.summary`, item.summary);
        break;
      default:
        break;
    }
  });
  for (const [callId, { at }] of open) {
    p.fail(`input.${at}`, `No tool output found for function call ${callId}.`);
  }
}

function validateMessage(item: Json, path: string, p: RequestChecks): void {
  p.onlyKeys(path, item, ['type', 'id', 'role', 'content', 'status', 'phase']);
  if (!p.oneOf(`${path}.role`, item.role, ['user', 'assistant', 'system', 'developer'])) return;
  const { content } = item;
  if (typeof content === 'string') return;
  if (!p.array(`${path}.content`, content)) return;
  const allowed = item.role === 'assistant' ? OUTPUT_PARTS : INPUT_PARTS;
  content.forEach((part, j) => {
    const ppath = at(path, `content.${j}`);
    if (!p.object(ppath, part) || !p.oneOf(`${ppath}.type`, part.type, allowed)) return;
    if (part.type === 'input_text' || part.type === 'output_text') {
      p.onlyKeys(
        ppath,
        part,
        part.type === 'output_text' ? ['type', 'text', 'annotations', 'logprobs'] : ['type', 'text'],
      );
      p.string(`${ppath}.text`, part.text);
    } else if (part.type === 'refusal') p.string(`${ppath}.refusal`, part.refusal);
    else if (part.type === 'input_image') {
      if (part.detail !== undefined)
        p.oneOf(`${ppath}.detail`, part.detail, ['low', 'high', 'auto', 'original']);
      if (part.image_url === undefined && part.file_id === undefined)
        p.fail(ppath, 'needs image_url or file_id');
    }
  });
}

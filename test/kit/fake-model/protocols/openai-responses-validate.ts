/**
 * Validation of an OpenAI Responses API request (`POST /v1/responses`, what Codex speaks), with the
 * rules the real API answers with `400 invalid_request_error`: required and unknown parameters,
 * input item types and roles, content part types per role, tool definitions, and tool outputs that
 * must answer an earlier call (and calls that must have their output, since Codex sends the whole
 * history with `store: false`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type JsonObject, join, Problems } from './strict-json.js';

const TOP_LEVEL = [
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning',
  'store',
  'include',
  'prompt_cache_key',
  'prompt_cache_retention',
  'stream',
  'stream_options',
  'text',
  'max_output_tokens',
  'max_tool_calls',
  'temperature',
  'top_p',
  'top_logprobs',
  'metadata',
  'previous_response_id',
  'conversation',
  'truncation',
  'user',
  'safety_identifier',
  'service_tier',
  'background',
  // Sent by Codex (session and turn ids); the OpenAI API accepts it from its own client.
  'client_metadata',
] as const;

const INCLUDABLE = [
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
  'message.input_image.image_url',
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
] as const;

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_TYPES = [
  'function',
  'custom',
  'web_search',
  'web_search_preview',
  'file_search',
  'code_interpreter',
  'image_generation',
  'computer_use_preview',
  'mcp',
  'local_shell',
  'shell',
  'apply_patch',
  'tool_search',
  'namespace',
] as const;
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

export function validateResponsesRequest(body: unknown, headers: IncomingHttpHeaders): Problems {
  const p = new Problems();
  if (!/^Bearer \S+$/.test(String(headers.authorization ?? ''))) {
    p.add('headers', 'You didn\'t provide an API key (expected "Authorization: Bearer <key>")');
  }
  if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
    p.add('headers', 'content-type must be application/json');
  }
  if (!p.object('body', body)) return p;
  p.keys('', body, TOP_LEVEL);
  p.string('model', body.model, { nonEmpty: true });
  for (const key of ['stream', 'store', 'parallel_tool_calls', 'background'] as const) {
    if (body[key] !== undefined) p.boolean(key, body[key]);
  }
  if (body.stream_options !== undefined && body.stream !== true) {
    p.add('stream_options', 'only allowed when stream is true');
  }
  if (body.instructions !== undefined && body.instructions !== null)
    p.string('instructions', body.instructions);
  if (body.max_output_tokens !== undefined)
    p.number('max_output_tokens', body.max_output_tokens, { integer: true, min: 16 });
  if (body.temperature !== undefined) p.number('temperature', body.temperature, { min: 0, max: 2 });
  if (body.top_p !== undefined) p.number('top_p', body.top_p, { min: 0, max: 1 });
  if (body.prompt_cache_key !== undefined) p.string('prompt_cache_key', body.prompt_cache_key);
  if (body.include !== undefined && p.array('include', body.include)) {
    body.include.forEach((v, i) => {
      p.oneOf(`include.${i}`, v, INCLUDABLE);
    });
  }
  if (body.reasoning !== undefined && body.reasoning !== null && p.object('reasoning', body.reasoning)) {
    p.keys('reasoning', body.reasoning, ['effort', 'summary', 'generate_summary', 'context']);
    if (body.reasoning.context !== undefined)
      p.oneOf('reasoning.context', body.reasoning.context, ['current_turn', 'all_turns']);
    if (body.reasoning.effort !== undefined && body.reasoning.effort !== null) {
      p.oneOf('reasoning.effort', body.reasoning.effort, [
        'none',
        'minimal',
        'low',
        'medium',
        'high',
        'xhigh',
      ]);
    }
    if (body.reasoning.summary !== undefined && body.reasoning.summary !== null) {
      p.oneOf('reasoning.summary', body.reasoning.summary, ['auto', 'concise', 'detailed']);
    }
  }
  if (body.text !== undefined && p.object('text', body.text)) {
    p.keys('text', body.text, ['format', 'verbosity']);
    if (body.text.verbosity !== undefined)
      p.oneOf('text.verbosity', body.text.verbosity, ['low', 'medium', 'high']);
    if (body.text.format !== undefined && p.object('text.format', body.text.format)) {
      p.oneOf('text.format.type', body.text.format.type, ['text', 'json_object', 'json_schema']);
    }
  }
  const tools = validateTools(body.tools, 'tools', p);
  validateToolChoice(body.tool_choice, tools, p);
  if (body.input === undefined) {
    if (body.previous_response_id === undefined && body.conversation === undefined)
      p.add('input', 'is required');
  } else if (typeof body.input === 'string') {
    p.string('input', body.input, { nonEmpty: true });
  } else if (p.array('input', body.input, { nonEmpty: true })) {
    validateInput(body.input, p);
  }
  return p;
}

/** Returns tool name → type for the named tools (namespaced ones included). */
function validateTools(
  tools: unknown,
  at: string,
  p: Problems,
  named = new Map<string, string>(),
): Map<string, string> {
  if (tools === undefined) return named;
  if (!p.array(at, tools)) return named;
  tools.forEach((tool, i) => {
    const path = `${at}.${i}`;
    if (!p.object(path, tool) || !p.oneOf(`${path}.type`, tool.type, TOOL_TYPES)) return;
    if (tool.type === 'function') {
      p.keys(path, tool, ['type', 'name', 'description', 'parameters', 'strict', 'defer_loading']);
      p.string(`${path}.name`, tool.name, { pattern: FUNCTION_NAME });
      if (tool.description !== undefined) p.string(`${path}.description`, tool.description);
      if (tool.parameters !== null) p.objectSchema(`${path}.parameters`, tool.parameters);
      if (tool.strict !== undefined) p.boolean(`${path}.strict`, tool.strict);
    } else if (tool.type === 'custom') {
      p.keys(path, tool, ['type', 'name', 'description', 'format', 'defer_loading']);
      p.string(`${path}.name`, tool.name, { pattern: FUNCTION_NAME });
      if (tool.format !== undefined && p.object(`${path}.format`, tool.format)) {
        if (
          p.oneOf(`${path}.format.type`, tool.format.type, ['text', 'grammar']) &&
          tool.format.type === 'grammar'
        ) {
          p.oneOf(`${path}.format.syntax`, tool.format.syntax, ['lark', 'regex']);
          p.string(`${path}.format.definition`, tool.format.definition, { nonEmpty: true });
        }
      }
    } else if (tool.type === 'namespace') {
      p.keys(path, tool, ['type', 'name', 'description', 'tools']);
      p.string(`${path}.name`, tool.name, { pattern: FUNCTION_NAME });
      if (tool.tools !== undefined) validateTools(tool.tools, `${path}.tools`, p, named);
    } else if (tool.type === 'tool_search') {
      if (tool.execution !== undefined) p.oneOf(`${path}.execution`, tool.execution, ['client', 'server']);
      if (tool.parameters !== undefined) p.objectSchema(`${path}.parameters`, tool.parameters);
    }
    if (typeof tool.name === 'string') {
      if (named.has(tool.name)) p.add(`${path}.name`, `duplicate tool name ${tool.name}`);
      named.set(tool.name, String(tool.type));
    }
  });
  return named;
}

function validateToolChoice(choice: unknown, tools: Map<string, string>, p: Problems): void {
  if (choice === undefined || typeof choice === 'string') {
    if (choice !== undefined) p.oneOf('tool_choice', choice, ['auto', 'none', 'required']);
    return;
  }
  if (!p.object('tool_choice', choice)) return;
  if ((choice.type === 'function' || choice.type === 'custom') && p.string('tool_choice.name', choice.name)) {
    if (tools.get(choice.name) !== choice.type)
      p.add('tool_choice.name', `no ${choice.type} tool named ${choice.name}`);
  }
}

function validateInput(items: unknown[], p: Problems): void {
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
        p.keys(path, item, [
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
            p.add(`${path}.arguments`, 'is not valid JSON');
          }
        }
        if (kind === 'custom') p.string(`${path}.input`, item.input);
        if (p.string(`${path}.call_id`, item.call_id, { nonEmpty: true })) {
          if (seen.has(item.call_id)) p.add(`${path}.call_id`, `Duplicate call_id ${item.call_id}`);
          seen.add(item.call_id);
          open.set(item.call_id, { kind, at: i });
        }
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const kind = type === 'function_call_output' ? 'function' : 'custom';
        p.keys(path, item, ['type', 'id', 'call_id', 'output', 'status']);
        if (typeof item.output !== 'string') p.array(`${path}.output`, item.output);
        if (!p.string(`${path}.call_id`, item.call_id, { nonEmpty: true })) break;
        const call = open.get(item.call_id);
        if (!call || call.kind !== kind) {
          p.add(`${path}.call_id`, `No tool call found for ${type} with call_id ${item.call_id}.`);
        } else open.delete(item.call_id);
        break;
      }
      case 'additional_tools':
        p.keys(path, item, ['type', 'id', 'role', 'tools']);
        if (item.role !== undefined) p.oneOf(`${path}.role`, item.role, ['developer', 'system']);
        validateTools(item.tools, `${path}.tools`, p);
        break;
      case 'reasoning':
        p.keys(path, item, ['type', 'id', 'summary', 'content', 'encrypted_content', 'status']);
        p.array(`${path}.summary`, item.summary);
        break;
      default:
        break;
    }
  });
  for (const [callId, { at }] of open) {
    p.add(`input.${at}`, `No tool output found for function call ${callId}.`);
  }
}

function validateMessage(item: JsonObject, path: string, p: Problems): void {
  p.keys(path, item, ['type', 'id', 'role', 'content', 'status', 'phase']);
  if (!p.oneOf(`${path}.role`, item.role, ['user', 'assistant', 'system', 'developer'])) return;
  const { content } = item;
  if (typeof content === 'string') return;
  if (!p.array(`${path}.content`, content)) return;
  const allowed = item.role === 'assistant' ? OUTPUT_PARTS : INPUT_PARTS;
  content.forEach((part, j) => {
    const ppath = join(path, `content.${j}`);
    if (!p.object(ppath, part) || !p.oneOf(`${ppath}.type`, part.type, allowed)) return;
    if (part.type === 'input_text' || part.type === 'output_text') {
      p.keys(
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
        p.add(ppath, 'needs image_url or file_id');
    }
  });
}

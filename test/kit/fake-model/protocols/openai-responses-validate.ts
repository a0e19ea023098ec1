/**
 * Validation of an OpenAI Responses API request (`POST /v1/responses`, what Codex speaks), with the
 * rules the real API answers with `400 invalid_request_error`: auth, required and unknown
 * parameters and their values. Tools are checked in openai-responses-tools.ts, input items in
 * openai-responses-input.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { validateInput } from './openai-responses-input.js';
import { validateToolChoice, validateTools } from './openai-responses-tools.js';
import { RequestChecks } from './request-checks.js';

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

export function validateResponsesRequest(body: unknown, headers: IncomingHttpHeaders): RequestChecks {
  const p = new RequestChecks();
  if (!/^Bearer \S+$/.test(String(headers.authorization ?? ''))) {
    p.fail('headers', 'You didn\'t provide an API key (expected "Authorization: Bearer <key>")');
  }
  if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
    p.fail('headers', 'content-type must be application/json');
  }
  if (!p.object('body', body)) return p;
  p.onlyKeys('', body, TOP_LEVEL);
  p.string('model', body.model, { nonEmpty: true });
  for (const key of ['stream', 'store', 'parallel_tool_calls', 'background'] as const) {
    if (body[key] !== undefined) p.boolean(key, body[key]);
  }
  if (body.stream_options !== undefined && body.stream !== true) {
    p.fail('stream_options', 'only allowed when stream is true');
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
    p.onlyKeys('reasoning', body.reasoning, ['effort', 'summary', 'generate_summary', 'context']);
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
    p.onlyKeys('text', body.text, ['format', 'verbosity']);
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
      p.fail('input', 'is required');
  } else if (typeof body.input === 'string') {
    p.string('input', body.input, { nonEmpty: true });
  } else if (p.array('input', body.input, { nonEmpty: true })) {
    validateInput(body.input, p);
  }
  return p;
}

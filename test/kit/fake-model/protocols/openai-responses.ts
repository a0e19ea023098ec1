/**
 * OpenAI Responses API (`POST /v1/responses`, what Codex speaks): strict validation (see
 * openai-responses-validate.ts), normalization into an Exchange, and replies as the real API sends
 * them — a response object, or with `stream: true` the SSE sequence response.created,
 * response.in_progress, response.output_item.added, then for text content_part.added /
 * output_text.delta / output_text.done / content_part.done, for a function call
 * function_call_arguments.delta / .done, for a custom tool call custom_tool_call_input.delta /
 * .done; response.output_item.done and response.completed with usage. Every event carries a
 * sequence_number.
 */
import type { Exchange, Message, ParsedRequest, ProtocolModule, Reply, Usage } from '../types.js';
import './codex-tools.js';
import { validateResponsesRequest } from './openai-responses-validate.js';
import { chunks, isJsonObject, type Json, randomId } from './request-checks.js';

/** Tool name → tool type ("function", "custom", …) of each exchange, to answer in the right item type. */
const toolTypes = new WeakMap<Exchange, Map<string, string>>();

export const openaiResponsesProtocol: ProtocolModule = {
  protocol: 'openai-responses',
  matches: (method, path) => method === 'POST' && path === '/v1/responses',
  parse(req: ParsedRequest) {
    const problems = validateResponsesRequest(req.body, req.headers);
    if ([...req.query.keys()].length) problems.fail('query', 'unexpected query parameters');
    if (!problems.ok) return { errors: problems.errors };
    const body = req.body as Json;
    const exchange = normalize(body);
    toolTypes.set(exchange, offeredTools(body));
    return { exchange };
  },
  respond(res, exchange, reply, usage) {
    const item = outputItem(
      reply,
      toolTypes.get(exchange)?.get(reply.kind === 'tool' ? reply.name : '') ?? '',
    );
    const base = {
      id: randomId('resp_'),
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      model: exchange.model,
      error: null,
      incomplete_details: null,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: [],
    };
    const completed = { ...base, status: 'completed', output: [item], usage: responseUsage(usage) };
    if (!exchange.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completed));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    let sequence = 0;
    const send = (type: string, data: Json) =>
      res.write(
        `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
      );
    const inProgress = { ...base, status: 'in_progress', output: [], usage: null };
    send('response.created', { response: inProgress });
    send('response.in_progress', { response: inProgress });
    streamItem(send, item);
    send('response.completed', { response: completed });
    res.end();
  },
};

function normalize(body: Json): Exchange {
  const messages: Message[] = [];
  if (typeof body.instructions === 'string' && body.instructions)
    messages.push({ role: 'system', text: body.instructions });
  const input =
    typeof body.input === 'string'
      ? [{ type: 'message', role: 'user', content: body.input }]
      : ((body.input ?? []) as Json[]);
  for (const item of input) {
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role =
        item.role === 'developer' || item.role === 'system' ? 'system' : (item.role as 'user' | 'assistant');
      messages.push({ role, text: partsText(item.content) });
    } else if (type === 'function_call') {
      messages.push({
        role: 'assistant',
        text: '',
        toolCall: { name: String(item.name), args: JSON.parse(String(item.arguments)) },
      });
    } else if (type === 'custom_tool_call') {
      messages.push({
        role: 'assistant',
        text: '',
        toolCall: { name: String(item.name), args: { input: item.input } },
      });
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      messages.push({ role: 'tool', text: partsText(item.output) });
    }
  }
  return {
    protocol: 'openai-responses',
    model: String(body.model),
    tools: [...offeredTools(body).keys()],
    messages,
    stream: body.stream === true,
  };
}

/**
 * Tool name → type of every tool offered: top-level `tools`, and `additional_tools` input items;
 * namespaces contribute the tools inside them (the model calls those by their own name).
 */
function offeredTools(body: Json): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (tools: unknown) => {
    if (!Array.isArray(tools)) return;
    for (const tool of tools as Json[]) {
      if (tool.type === 'namespace') visit(tool.tools);
      else if (typeof tool.name === 'string') found.set(tool.name, String(tool.type));
    }
  };
  visit(body.tools);
  if (Array.isArray(body.input)) {
    for (const item of body.input as Json[]) if (item.type === 'additional_tools') visit(item.tools);
  }
  return found;
}

function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is Json => isJsonObject(part) && typeof part.text === 'string')
    .map((part) => String(part.text))
    .join('\n');
}

function outputItem(reply: Reply, toolType: string): Json {
  if (reply.kind === 'text') {
    return {
      id: randomId('msg_'),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: reply.text, annotations: [], logprobs: [] }],
    };
  }
  if (toolType === 'custom') {
    if (typeof reply.args.input !== 'string')
      throw new Error(`custom tool ${reply.name} needs a string "input" argument`);
    return {
      id: randomId('ctc_'),
      type: 'custom_tool_call',
      status: 'completed',
      call_id: randomId('call_'),
      name: reply.name,
      input: reply.args.input,
    };
  }
  return {
    id: randomId('fc_'),
    type: 'function_call',
    status: 'completed',
    call_id: randomId('call_'),
    name: reply.name,
    arguments: JSON.stringify(reply.args),
  };
}

type Send = (type: string, data: Json) => void;

function streamItem(send: Send, item: Json): void {
  const at = { output_index: 0 };
  const ref = { item_id: item.id, ...at };
  if (item.type === 'message') {
    const part = (item.content as Json[])[0] as Json;
    const text = String(part.text);
    send('response.output_item.added', { ...at, item: { ...item, status: 'in_progress', content: [] } });
    send('response.content_part.added', { ...ref, content_index: 0, part: { ...part, text: '' } });
    for (const delta of chunks(text))
      send('response.output_text.delta', { ...ref, content_index: 0, delta, logprobs: [] });
    send('response.output_text.done', { ...ref, content_index: 0, text, logprobs: [] });
    send('response.content_part.done', { ...ref, content_index: 0, part });
  } else if (item.type === 'function_call') {
    send('response.output_item.added', { ...at, item: { ...item, status: 'in_progress', arguments: '' } });
    for (const delta of chunks(String(item.arguments)))
      send('response.function_call_arguments.delta', { ...ref, delta });
    send('response.function_call_arguments.done', { ...ref, name: item.name, arguments: item.arguments });
  } else {
    send('response.output_item.added', { ...at, item: { ...item, status: 'in_progress', input: '' } });
    for (const delta of chunks(String(item.input)))
      send('response.custom_tool_call_input.delta', { ...ref, delta });
    send('response.custom_tool_call_input.done', { ...ref, input: item.input });
  }
  send('response.output_item.done', { ...at, item });
}

function responseUsage(usage: Usage): Json {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/**
 * Anthropic Messages API (`POST /v1/messages`, what Claude Code speaks): strict validation (see
 * anthropic-validate.ts), normalization into an Exchange, and replies as the real API sends them —
 * a JSON message, or with `stream: true` the SSE sequence message_start, ping, content_block_start /
 * content_block_delta (text_delta, input_json_delta) / content_block_stop, message_delta (stop_reason
 * and cumulative usage), message_stop.
 */
import type { ServerResponse } from 'node:http';
import type { Exchange, Message, ParsedRequest, ProtocolModule, Reply, Usage } from '../types.js';
import { validateMessagesRequest } from './anthropic-validate.js';
import './claude-code-tools.js';
import { chunks, isJsonObject, type Json, randomId } from './request-checks.js';

export const anthropicProtocol: ProtocolModule = {
  protocol: 'anthropic',
  matches: (method, path) => method === 'POST' && path === '/v1/messages',
  parse(req: ParsedRequest) {
    const problems = validateMessagesRequest(req.body, req.headers);
    for (const key of req.query.keys()) {
      if (key !== 'beta') problems.fail('query', `unexpected query parameter ${key}`);
    }
    if (!problems.ok) return { errors: problems.errors };
    return { exchange: normalize(req.body as Json) };
  },
  respond(res, exchange, reply, usage) {
    const message = { id: randomId('msg_'), model: exchange.model };
    if (exchange.stream) streamReply(res, message, reply, usage);
    else {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': randomId('req_') }).end(
        JSON.stringify({
          ...message,
          type: 'message',
          role: 'assistant',
          content: [replyBlock(reply)],
          stop_reason: stopReason(reply),
          stop_sequence: null,
          usage: finalUsage(usage),
        }),
      );
    }
  },
};

function normalize(body: Json): Exchange {
  const messages: Message[] = [];
  const system = body.system;
  if (typeof system === 'string' && system) messages.push({ role: 'system', text: system });
  else if (Array.isArray(system)) {
    messages.push({ role: 'system', text: system.map((b) => String((b as Json).text)).join('\n') });
  }
  for (const message of body.messages as Json[]) {
    const role = message.role as 'user' | 'assistant' | 'system';
    const blocks =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : (message.content as Json[]);
    const texts: string[] = [];
    for (const block of blocks) {
      if (block.type === 'text') texts.push(String(block.text));
      else if (block.type === 'tool_result')
        messages.push({ role: 'tool', text: toolResultText(block.content) });
      else if (block.type === 'tool_use') {
        messages.push({
          role: 'assistant',
          text: '',
          toolCall: { name: String(block.name), args: block.input },
        });
      }
    }
    if (texts.length) messages.push({ role, text: texts.join('\n') });
  }
  return {
    protocol: 'anthropic',
    model: String(body.model),
    tools: Array.isArray(body.tools) ? body.tools.map((t) => String((t as Json).name)) : [],
    messages,
    stream: body.stream === true,
  };
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is Json => isJsonObject(b) && b.type === 'text')
    .map((b) => String(b.text))
    .join('\n');
}

function replyBlock(reply: Reply): Json {
  return reply.kind === 'text'
    ? { type: 'text', text: reply.text }
    : { type: 'tool_use', id: randomId('toolu_'), name: reply.name, input: reply.args };
}

const stopReason = (reply: Reply) => (reply.kind === 'tool' ? 'tool_use' : 'end_turn');

function finalUsage(usage: Usage): Json {
  return {
    input_tokens: usage.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: usage.outputTokens,
  };
}

function streamReply(
  res: ServerResponse,
  message: { id: string; model: string },
  reply: Reply,
  usage: Usage,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': randomId('req_'),
  });
  const send = (event: string, data: Json) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', {
    message: {
      ...message,
      type: 'message',
      role: 'assistant',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // Like the real API: input tokens up front, output counted in message_delta (cumulative).
      usage: { ...finalUsage(usage), output_tokens: 1 },
    },
  });
  send('ping', {});
  const block = replyBlock(reply);
  if (reply.kind === 'text') {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    for (const piece of chunks(reply.text))
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
  } else {
    send('content_block_start', { index: 0, content_block: { ...block, input: {} } });
    for (const piece of chunks(JSON.stringify(reply.args))) {
      send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: piece } });
    }
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', {
    delta: { stop_reason: stopReason(reply), stop_sequence: null },
    usage: finalUsage(usage),
  });
  send('message_stop', {});
  res.end();
}

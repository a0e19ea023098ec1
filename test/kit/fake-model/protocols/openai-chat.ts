/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`) as OpenAI-compatible clients use it (OpenCode
 * through `@ai-sdk/openai-compatible`): streamed `chat.completion.chunk` events with `delta.content`
 * and `delta.tool_calls` pieces, a final chunk with `finish_reason`, a usage chunk (empty `choices`)
 * when `stream_options.include_usage` is set, then `data: [DONE]`; or one `chat.completion` object.
 * The key travels as `Authorization: Bearer …`. Importing this module also registers OpenCode's tools
 * with the scripted brain.
 */
import { randomBytes } from 'node:crypto';
import type { Exchange, Message, ParsedRequest, ProtocolModule, Reply, Usage } from '../types.js';
import { type ChatMessage, validateChatRequest } from './openai-chat-validate.js';
import './opencode-tools.js';
import { RequestChecks } from './request-checks.js';

const includeUsage = new WeakMap<Exchange, boolean>();

export const openaiChatProtocol: ProtocolModule = {
  protocol: 'openai-chat',

  matches(method, path) {
    return method === 'POST' && path === '/v1/chat/completions';
  },

  parse(req: ParsedRequest) {
    const checks = new RequestChecks();
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ') || auth.length <= 'Bearer '.length) {
      checks.fail('headers', 'no API key (Authorization: Bearer …): 401');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      checks.fail('headers', `content-type must be application/json, got ${req.headers['content-type']}`);
    }
    if ([...req.query.keys()].length) checks.fail('query', `unexpected query ${req.query}`);
    const valid = validateChatRequest(checks, req.body);
    if (checks.errors.length || !valid)
      return { errors: checks.errors.length ? checks.errors : ['invalid request'] };
    const exchange: Exchange = {
      protocol: 'openai-chat',
      model: valid.model,
      tools: valid.tools,
      messages: valid.messages.flatMap(toMessages),
      stream: valid.stream,
    };
    includeUsage.set(exchange, valid.includeUsage);
    return { exchange };
  },

  respond(res, exchange, reply, usage) {
    const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
    const created = Math.floor(Date.now() / 1000);
    const usageBody = usageOf(usage);
    const toolCallId = `call_${randomBytes(12).toString('base64url')}`;
    if (!exchange.stream) {
      const message =
        reply.kind === 'text'
          ? { role: 'assistant', content: reply.text, refusal: null, annotations: [] }
          : {
              role: 'assistant',
              content: null,
              refusal: null,
              annotations: [],
              tool_calls: [
                {
                  id: toolCallId,
                  type: 'function',
                  function: { name: reply.name, arguments: JSON.stringify(reply.args) },
                },
              ],
            };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: exchange.model,
          choices: [
            {
              index: 0,
              message,
              logprobs: null,
              finish_reason: reply.kind === 'text' ? 'stop' : 'tool_calls',
            },
          ],
          usage: usageBody,
          system_fingerprint: 'fp_forge_fake',
        }),
      );
      return;
    }
    const withUsage = includeUsage.get(exchange) === true;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: exchange.model,
      system_fingerprint: 'fp_forge_fake',
      choices,
      ...(withUsage ? { usage: null } : {}),
      ...extra,
    });
    const delta = (d: Record<string, unknown>, finish: string | null = null) =>
      chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
    const events = [...replyDeltas(reply, toolCallId).map((d) => delta(d)), delta({}, finishOf(reply))];
    if (withUsage) events.push(chunk([], { usage: usageBody }));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
    res.end('data: [DONE]\n\n');
  },
};

function finishOf(reply: Reply): string {
  return reply.kind === 'text' ? 'stop' : 'tool_calls';
}

/** Text in two pieces after the role delta; a tool call as its header, then its arguments in two pieces. */
function replyDeltas(reply: Reply, toolCallId: string): Array<Record<string, unknown>> {
  const halves = (s: string) =>
    [s.slice(0, Math.ceil(s.length / 2)), s.slice(Math.ceil(s.length / 2))].filter(Boolean);
  if (reply.kind === 'text') {
    return [
      { role: 'assistant', content: '', refusal: null },
      ...halves(reply.text).map((content) => ({ content })),
    ];
  }
  const args = JSON.stringify(reply.args);
  return [
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { index: 0, id: toolCallId, type: 'function', function: { name: reply.name, arguments: '' } },
      ],
    },
    ...halves(args).map((piece) => ({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
  ];
}

function usageOf(usage: Usage) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function toMessages(m: ChatMessage): Message[] {
  const role = m.role === 'developer' ? 'system' : m.role;
  const out: Message[] = [];
  if (m.text || m.toolCalls.length === 0) out.push({ role, text: m.text });
  for (const call of m.toolCalls) {
    out.push({
      role: 'assistant',
      text: '',
      toolCall: { name: call.name, args: JSON.parse(call.arguments) as unknown },
    });
  }
  return out;
}

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sseEvents } from '../protocol-client.js';
import { type FakeModel, startFakeModel } from '../server.js';
import { geminiProtocol } from './gemini.js';

let fake: FakeModel;
before(async () => {
  fake = await startFakeModel({ protocols: [geminiProtocol] });
});
after(() => fake.close());
beforeEach(() => {
  fake.violations.length = 0;
  fake.requests.length = 0;
});

const TOOLS = [
  {
    functionDeclarations: [
      {
        name: 'write_file',
        description: 'Writes a file',
        parametersJsonSchema: {
          type: 'object',
          properties: { file_path: { type: 'string' }, content: { type: 'string' } },
          required: ['file_path', 'content'],
        },
      },
      {
        name: 'run_shell_command',
        parameters: { type: 'OBJECT', properties: { command: { type: 'STRING' } } },
      },
    ],
  },
];
const CONTEXT = '<session_context>\n- **Workspace Directories:**\n  - /work/checkout\n</session_context>';

function request(contents: unknown[], extra: Record<string, unknown> = {}) {
  return {
    contents,
    systemInstruction: { parts: [{ text: 'You are a CLI agent.' }] },
    tools: TOOLS,
    generationConfig: {
      temperature: 1,
      topP: 0.95,
      topK: 64,
      thinkingConfig: { includeThoughts: true, thinkingBudget: 8192 },
    },
    ...extra,
  };
}
const user = (text: string) => ({ role: 'user', parts: [{ text: CONTEXT }, { text }] });

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'turn-token', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const STREAM = '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse';

function sseChunks(text: string): Array<Record<string, any>> {
  assert.ok(text.includes('\r\n\r\n'), 'the Gemini API frames SSE events with CRLF');
  return sseEvents(text).map((e) => JSON.parse(e.data));
}

describe('fake Gemini API: valid requests', () => {
  it('streams a text answer as SSE chunks with finishReason and usage on the last', async () => {
    const res = await post(STREAM, request([user('Explain. [[say:It is fine.]]')]));
    assert.equal(res.status, 200);
    assert.match(res.type, /text\/event-stream/);
    const chunks = sseChunks(res.text);
    assert.ok(chunks.length >= 2);
    assert.equal(chunks.map((c) => c.candidates[0].content.parts[0].text).join(''), 'It is fine.');
    const last = chunks.at(-1)!;
    assert.equal(last.candidates[0].finishReason, 'STOP');
    assert.equal(last.candidates[0].content.role, 'model');
    const { usage } = fake.requests[0]!;
    assert.deepEqual(last.usageMetadata, {
      promptTokenCount: usage.inputTokens,
      candidatesTokenCount: usage.outputTokens,
      totalTokenCount: usage.inputTokens + usage.outputTokens,
    });
    assert.equal(chunks[0]!.candidates[0].finishReason, undefined);
    assert.deepEqual(fake.violations, []);
    const exchange = fake.requests[0]!.exchange;
    assert.deepEqual(exchange.tools, ['write_file', 'run_shell_command']);
    assert.equal(exchange.messages[0]!.role, 'system');
    assert.equal(exchange.stream, true);
  });

  it("calls Gemini CLI's write_file with an absolute path in the workspace, then its shell tool", async () => {
    const prompt = 'Do it [[write:src/a.txt:hello]] [[shell:npm test]]';
    const first = sseChunks((await post(STREAM, request([user(prompt)]))).text);
    const call = first[0]!.candidates[0].content.parts[0].functionCall;
    assert.deepEqual(call, {
      name: 'write_file',
      args: { file_path: '/work/checkout/src/a.txt', content: 'hello' },
    });
    const history = [
      user(prompt),
      { role: 'model', parts: [{ functionCall: call }] },
      { role: 'user', parts: [{ functionResponse: { name: 'write_file', response: { output: 'ok' } } }] },
    ];
    const second = sseChunks((await post(STREAM, request(history))).text);
    assert.equal(second[0]!.candidates[0].content.parts[0].functionCall.name, 'run_shell_command');
    assert.equal(second[0]!.candidates[0].content.parts[0].functionCall.args.command, 'npm test');
    assert.deepEqual(fake.violations, []);
  });

  it('streams a JSON array without alt=sse, answers generateContent whole and counts tokens', async () => {
    const array = await post(
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      request([user('[[say:Hi there]]')]),
    );
    assert.equal(array.status, 200);
    const parsed = JSON.parse(array.text) as Array<Record<string, any>>;
    assert.equal(parsed.map((c) => c.candidates[0].content.parts[0].text).join(''), 'Hi there');

    const whole = JSON.parse(
      (await post('/v1beta/models/gemini-2.5-pro:generateContent', request([user('[[say:One piece]]')])))
        .text,
    );
    assert.deepEqual(whole.candidates[0].content.parts, [{ text: 'One piece' }]);
    assert.equal(whole.candidates[0].finishReason, 'STOP');

    const counted = JSON.parse(
      (await post('/v1beta/models/gemini-2.5-pro:countTokens', { contents: [user('count me')] })).text,
    );
    assert.ok(counted.totalTokens > 0);
    assert.deepEqual(fake.violations, []);
  });

  it('accepts the key as ?key= and thought parts with signatures', async () => {
    const history = [
      user('[[say:ok]]'),
      {
        role: 'model',
        parts: [
          { text: 'thinking', thought: true },
          { text: 'Sure.', thoughtSignature: 'c2lnbmF0dXJl' },
        ],
      },
      user('again [[say:ok]]'),
    ];
    const res = await post(`${STREAM}&key=abc`, request(history), { 'x-goog-api-key': '' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(fake.violations, []);
  });
});

describe('fake Gemini API: malformed requests are 400s and violations', () => {
  const call = { role: 'model', parts: [{ functionCall: { name: 'write_file', args: {} } }] };
  const response = (name = 'write_file') => ({
    role: 'user',
    parts: [{ functionResponse: { name, response: {} } }],
  });
  const cases: Array<[string, unknown, RegExp, { path?: string; headers?: Record<string, string> }?]> = [
    ['no contents', { tools: TOOLS }, /contents: is required/],
    ['empty contents', request([]), /contents: must not be empty/],
    ['an unknown field', request([user('x')], { temperature: 1 }), /temperature: unknown field/],
    [
      'an unknown role',
      request([{ role: 'assistant', parts: [{ text: 'x' }] }]),
      /role: "assistant" is not one of user, model/,
    ],
    ['empty parts', request([{ role: 'user', parts: [] }]), /parts: must not be empty/],
    [
      'a part with two data fields',
      request([{ role: 'user', parts: [{ text: 'a', inlineData: { mimeType: 'x', data: '' } }] }]),
      /exactly one of/,
    ],
    [
      'a part with no data',
      request([{ role: 'user', parts: [{ thought: true }] }]),
      /exactly one of .* \(got none\)/,
    ],
    [
      'a function call from the user',
      request([{ role: 'user', parts: [{ functionCall: { name: 'write_file' } }] }]),
      /function calls may only appear in "model" contents/,
    ],
    [
      'a function response nobody asked for',
      request([user('x'), response()]),
      /must come right after a function call turn/,
    ],
    [
      'a doubled function response',
      request([user('x'), call, { role: 'user', parts: [...response().parts, ...response().parts] }]),
      /2 function response part\(s\) for 1 function call part/,
    ],
    [
      'a response to another function',
      request([user('x'), call, response('run_shell_command')]),
      /do not match the calls/,
    ],
    [
      'an unanswered function call',
      request([user('x'), call, user('y')]),
      /must be followed by its function responses/,
    ],
    [
      'a response without its response object',
      request([user('x'), call, { role: 'user', parts: [{ functionResponse: { name: 'write_file' } }] }]),
      /response: is required/,
    ],
    [
      'a bad function name',
      request([user('x')], { tools: [{ functionDeclarations: [{ name: '1-bad name' }] }] }),
      /does not match/,
    ],
    [
      'a duplicate function',
      request([user('x')], { tools: [{ functionDeclarations: [{ name: 'f' }, { name: 'f' }] }] }),
      /duplicate function name f/,
    ],
    [
      'both parameter schemas',
      request([user('x')], {
        tools: [
          {
            functionDeclarations: [
              { name: 'f', parameters: { type: 'OBJECT' }, parametersJsonSchema: { type: 'object' } },
            ],
          },
        ],
      }),
      /mutually exclusive/,
    ],
    [
      'an unknown schema type',
      request([user('x')], {
        tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'MAP' } }] }],
      }),
      /unknown schema type "MAP"/,
    ],
    [
      'a temperature out of range',
      request([user('x')], { generationConfig: { temperature: 3 } }),
      /temperature: 3 is above 2/,
    ],
    [
      'an unknown generation option',
      request([user('x')], { generationConfig: { creativity: 1 } }),
      /generationConfig.creativity: unknown field/,
    ],
    [
      'allowedFunctionNames with AUTO',
      request([user('x')], {
        toolConfig: { functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['write_file'] } },
      }),
      /only allowed with mode ANY/,
    ],
    ['no API key', request([user('x')]), /no API key/, { headers: { 'x-goog-api-key': '' } }],
    [
      'a non-JSON content type',
      request([user('x')]),
      /content-type must be application\/json/,
      { headers: { 'content-type': 'text/plain' } },
    ],
    [
      'alt=sse on generateContent',
      request([user('x')]),
      /alt=sse is only for streamGenerateContent/,
      { path: '/v1beta/models/gemini-2.5-pro:generateContent?alt=sse' },
    ],
    [
      'an unexpected model name',
      request([user('x')]),
      /unexpected model name/,
      { path: '/v1beta/models/Gemini%20Pro:streamGenerateContent?alt=sse' },
    ],
    [
      'countTokens with both forms',
      { contents: [user('x')], generateContentRequest: request([user('x')]) },
      /exactly one of contents and generateContentRequest/,
      { path: '/v1beta/models/gemini-2.5-pro:countTokens' },
    ],
  ];
  for (const [name, body, expected, options = {}] of cases) {
    it(`rejects ${name}`, async () => {
      const res = await post(options.path ?? STREAM, body, options.headers);
      assert.equal(res.status, 400, res.text);
      assert.equal(fake.violations.length >= 1, true);
      assert.match(fake.violations.join('\n'), expected);
      assert.equal(fake.requests.length, 0, 'a rejected request reaches no brain');
    });
  }

  it('rejects a body that is not JSON and an unknown method', async () => {
    assert.equal((await post(STREAM, '{oops')).status, 400);
    assert.equal(
      (await post('/v1beta/models/gemini-2.5-pro:embedContent', request([user('x')]))).status,
      404,
    );
    assert.match(
      fake.violations.join('\n'),
      /body is not JSON[\s\S]*unexpected POST \/v1beta\/models\/gemini-2.5-pro:embedContent/,
    );
  });
});

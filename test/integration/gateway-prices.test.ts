/**
 * Prices from the operator's configuration, end to end: FORGE_MODEL_PRICES through the real
 * config loader into a gateway started from config, priced on responses from the strict upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { gatewayOptionsFromConfig } from '../../src/gateway/config.js';
import { startModelGateway } from '../../src/gateway/server.js';
import { type FakeUpstream, startFakeUpstream } from '../kit/fake-upstream.js';
import { send } from '../kit/gateway-client.js';

let upstream: FakeUpstream;
const messages = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
};

before(async () => {
  upstream = await startFakeUpstream();
});

after(async () => {
  await upstream.close();
  upstream.assertClean();
});

describe('prices from the operator configuration', () => {
  test('FORGE_MODEL_PRICES prices models the table lacks and overrides the ones it has', async () => {
    const config = loadConfig({
      FORGE_ROLE: 'worker',
      FORGE_AGENT: 'codex',
      FORGE_GATEWAY_PORT: '0',
      OPENAI_API_KEY: upstream.keys.openai,
      OPENAI_BASE_URL: upstream.baseUrls.openai,
      ANTHROPIC_API_KEY: upstream.keys.anthropic,
      ANTHROPIC_BASE_URL: upstream.baseUrls.anthropic,
      FORGE_MODEL_PRICES: 'gpt-4.1-mini=1/2,claude-haiku=10/20',
    });
    const configured = await startModelGateway(gatewayOptionsFromConfig(config));
    try {
      const g = configured.grant({ taskId: 't', turn: 1 });
      upstream.forbid(g.access.token);
      const chat = await send(`${g.access.openaiBaseUrl}/chat/completions`, {
        headers: { authorization: `Bearer ${g.access.token}` },
        body: { model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'x' }] },
      });
      await chat.body;
      const haiku = await send(`${g.access.anthropicBaseUrl}/v1/messages`, {
        headers: { 'x-api-key': g.access.token },
        body: { ...messages, model: 'claude-haiku-4-5', stream: false },
      });
      await haiku.body;
      // An unknown model is counted with no cost.
      upstream.setReply((req) =>
        req.path === '/responses'
          ? {
              headers: { 'content-type': 'application/json' },
              chunks: [Buffer.from('{"model":"local-coder","usage":{"input_tokens":100,"output_tokens":7}}')],
            }
          : undefined,
      );
      const local = await send(`${g.access.openaiBaseUrl}/responses`, {
        headers: { authorization: `Bearer ${g.access.token}` },
        body: { model: 'local-coder', input: 'x' },
      });
      await local.body;
      upstream.setReply(undefined);

      const byModel = Object.fromEntries(g.usage().byModel.map((m) => [m.model, m]));
      // Override, no cached rate given: cached tokens at the input rate.
      assert.ok(Math.abs(byModel['gpt-4.1-mini']!.costUsd! - (1536 * 1 + 27 * 2) / 1e6) < 1e-12);
      assert.ok(Math.abs(byModel['claude-haiku-4-5']!.costUsd! - (412 * 10 + 9 * 20) / 1e6) < 1e-12);
      assert.equal(byModel['local-coder']!.costUsd, undefined);
      assert.equal(byModel['local-coder']!.inputTokens, 100);
      const usage = g.usage();
      assert.equal(usage.requests, 3);
      assert.ok(
        Math.abs(
          usage.costUsd! - (byModel['gpt-4.1-mini']!.costUsd! + byModel['claude-haiku-4-5']!.costUsd!),
        ) < 1e-12,
      );
      g.revoke();
    } finally {
      await configured.close();
    }
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODEL_STREAMS } from '../../test/kit/model-streams.js';
import { loadConfig } from '../config/load.js';
import { BUILT_IN_PRICES, costOf, PriceTable } from './prices.js';
import type { TokenReading } from './usage-extract.js';

const reading = (r: Partial<TokenReading>): TokenReading => ({
  inputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  ...r,
});
const close = (actual: number | undefined, expected: number) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);

test('dated snapshots and variants find their family by the longest prefix at a separator', () => {
  const table = new PriceTable();
  assert.equal(table.lookup('claude-sonnet-4-5-20250929'), BUILT_IN_PRICES['claude-sonnet-4']);
  assert.equal(table.lookup('claude-sonnet-4-6'), BUILT_IN_PRICES['claude-sonnet-4-6']);
  assert.equal(table.lookup('claude-opus-4-1-20250805'), BUILT_IN_PRICES['claude-opus-4']);
  assert.equal(table.lookup('claude-opus-4-5-20251101'), BUILT_IN_PRICES['claude-opus-4-5']);
  assert.equal(table.lookup('gpt-5-mini-2025-08-07'), BUILT_IN_PRICES['gpt-5-mini']);
  assert.equal(table.lookup('gpt-5.1-codex-max'), BUILT_IN_PRICES['gpt-5.1']);
  assert.equal(table.lookup('GPT-5.4-Mini'), BUILT_IN_PRICES['gpt-5.4-mini']);
  assert.equal(table.lookup('models/gemini-2.5-flash-lite'), BUILT_IN_PRICES['gemini-2.5-flash-lite']);
  assert.equal(table.lookup('gemini-3-pro-preview'), BUILT_IN_PRICES['gemini-3-pro']);
});

test('a name that only shares characters with a key is unknown, not priced as its neighbour', () => {
  const table = new PriceTable();
  assert.equal(table.lookup('gpt-5.6-sol'), undefined);
  assert.equal(table.lookup('gpt-50'), undefined);
  assert.equal(table.lookup('my-local-llama'), undefined);
  assert.equal(table.cost(reading({ inputTokens: 1000, outputTokens: 10 }), 'my-local-llama'), undefined);
});

test('cost of the recorded Claude Code response: cache reads discounted, 1-hour cache writes at 2×', () => {
  const table = new PriceTable();
  const r = MODEL_STREAMS.anthropicSse.expected;
  // Sonnet 4.5: $3 input, $0.30 cache read, $6 1-hour write, $15 output per million.
  close(table.cost(r, r.model), (12 * 3 + 18432 * 0.3 + 2048 * 6 + 287 * 15) / 1e6);
});

test('cost of the recorded Codex, Chat Completions and Gemini responses', () => {
  const table = new PriceTable();
  const responses = MODEL_STREAMS.responsesSse.expected;
  close(table.cost(responses, responses.model), ((9410 - 8192) * 1.25 + 8192 * 0.125 + 412 * 10) / 1e6);
  const chat = MODEL_STREAMS.chatSse.expected;
  close(table.cost(chat, chat.model), (512 * 0.4 + 1024 * 0.1 + 27 * 1.6) / 1e6);
  const gemini = MODEL_STREAMS.geminiSse.expected;
  close(table.cost(gemini, gemini.model), (2250 * 1.25 + 12000 * 0.125 + 358 * 10) / 1e6);
});

test('5-minute cache writes cost 1.25× input; long prompts switch every token to the long-context rate', () => {
  const sonnet = BUILT_IN_PRICES['claude-sonnet-4']!;
  close(costOf(sonnet, reading({ inputTokens: 1000, cacheWriteTokens: 1000 })), (1000 * 3.75) / 1e6);
  close(
    costOf(sonnet, reading({ inputTokens: 300_000, cacheReadTokens: 100_000, outputTokens: 1000 })),
    (200_000 * 6 + 100_000 * 0.6 + 1000 * 22.5) / 1e6,
  );
  close(costOf(sonnet, reading({ inputTokens: 200_000 })), (200_000 * 3) / 1e6);
});

test('without a cached rate, cache reads cost the full input rate (never under-counted)', () => {
  close(
    costOf({ input: 2, output: 8 }, reading({ inputTokens: 100, cacheReadTokens: 60, outputTokens: 10 })),
    (100 * 2 + 10 * 8) / 1e6,
  );
});

test('the first name with a price wins: the provider-reported snapshot, else the requested model', () => {
  const table = new PriceTable({ 'claude-sonnet-4-5-20250929': { input: 1, output: 1 } });
  const r = reading({ inputTokens: 100_000 });
  close(table.cost(r, 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'), 0.1);
  close(table.cost(r, 'nobody-knows', 'claude-sonnet-4-5'), 0.3);
});

test('FORGE_MODEL_PRICES overrides the table and adds models, through the real config loader', () => {
  const config = loadConfig({
    FORGE_ROLE: 'web',
    FORGE_MODEL_PRICES: 'claude-sonnet=1/2, my-local-model=0.5/1.5/0.05',
  });
  assert.deepEqual(config.modelPrices, {
    'claude-sonnet': { input: 1, output: 2 },
    'my-local-model': { input: 0.5, output: 1.5, cacheRead: 0.05 },
  });
  const table = new PriceTable(config.modelPrices);
  // An override covers every model it prefixes, even where the built-in key is longer.
  close(table.cost(reading({ inputTokens: 1e6, outputTokens: 1e6 }), 'claude-sonnet-4-5-20250929'), 3);
  close(table.cost(reading({ inputTokens: 1e6, cacheReadTokens: 1e6 }), 'my-local-model-q4'), 0.05);
  assert.equal(table.lookup('gpt-5'), BUILT_IN_PRICES['gpt-5']);
});

test('FORGE_MODEL_PRICES errors name the setting, the model and the expected form', () => {
  for (const bad of ['gpt-5=1', 'gpt-5=a/b', 'gpt-5=1/2/3/4', 'gpt-5=-1/2', 'gpt-5']) {
    assert.throws(
      () => loadConfig({ FORGE_ROLE: 'web', FORGE_MODEL_PRICES: bad }),
      (error: Error) => /FORGE_MODEL_PRICES/.test(error.message) && /input\/output/.test(error.message),
      bad,
    );
  }
});

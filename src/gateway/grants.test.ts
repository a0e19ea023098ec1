import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODEL_STREAMS } from '../../test/kit/model-streams.js';
import { GrantRegistry } from './grants.js';
import { PriceTable } from './prices.js';
import type { GrantUsage } from './types.js';

function registry(errors: string[] = []) {
  const tokens: [string, boolean][] = [];
  const reg = new GrantRegistry({
    prices: new PriceTable(),
    access: (token) => ({ anthropicBaseUrl: 'a', openaiBaseUrl: 'o', geminiBaseUrl: 'g', token }),
    events: {
      onCallbackError: (_g, callback, error) => errors.push(`${callback}: ${(error as Error).message}`),
      onToken: (token, live) => tokens.push([token, live]),
    },
  });
  return { reg, tokens };
}

test('tokens are random, found only while live, and announced for redaction', () => {
  const { reg, tokens } = registry();
  const a = reg.create({ taskId: 't', turn: 1 });
  const b = reg.create({ taskId: 't', turn: 2 });
  assert.match(a.token, /^forge-turn-[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.token, b.token);
  assert.equal(a.access.token, a.token);
  assert.equal(reg.find([a.token]), a);
  assert.equal(reg.find(['nope', b.token]), b);
  assert.equal(reg.find([`${a.token}x`]), undefined);
  assert.equal(reg.find([]), undefined);
  a.revoke();
  a.revoke();
  assert.equal(reg.find([a.token]), undefined);
  assert.equal(reg.find([b.token]), b);
  assert.deepEqual(tokens, [
    [a.token, true],
    [b.token, true],
    [a.token, false],
  ]);
});

test('a grant revokes itself after its ttl', async () => {
  const { reg } = registry();
  const g = reg.create({ taskId: 't', turn: 1, ttlMs: 5 });
  let cut = false;
  g.track(() => {
    cut = true;
  });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(reg.find([g.token]), undefined);
  assert.equal(cut, true);
});

test('admit sees the request about to be made; a refusal is not counted; usage adds up per model', () => {
  const seen: GrantUsage[] = [];
  const updates: GrantUsage[] = [];
  const { reg } = registry();
  const g = reg.create({
    taskId: 't',
    turn: 1,
    admit: (u) => {
      seen.push(u);
      return u.requests > 2 ? 'The turn reached its limit of 2 agent steps (model requests).' : undefined;
    },
    onUsage: (u) => updates.push(u),
  });
  assert.equal(g.admit('anthropic', 'claude-sonnet-4-5'), undefined);
  g.record('anthropic', 'claude-sonnet-4-5', MODEL_STREAMS.anthropicSse.expected);
  assert.equal(g.admit('anthropic', 'claude-haiku-4-5'), undefined);
  g.record('anthropic', 'claude-haiku-4-5', MODEL_STREAMS.anthropicJson.expected);
  assert.match(g.admit('anthropic', 'claude-sonnet-4-5') ?? '', /limit of 2 agent steps/);
  assert.deepEqual(
    seen.map((u) => u.requests),
    [1, 2, 3],
  );
  const usage = g.usage();
  assert.equal(usage.requests, 2);
  assert.equal(usage.inputTokens, 20492 + 412);
  assert.equal(usage.outputTokens, 287 + 9);
  const sonnet = usage.byModel.find((m) => m.model === 'claude-sonnet-4-5')!;
  assert.equal(sonnet.requests, 1);
  assert.equal(sonnet.cacheReadTokens, 18432);
  assert.equal(sonnet.cacheWriteTokens, 2048);
  const haikuCost = (412 * 1 + 9 * 5) / 1e6;
  assert.ok(Math.abs(usage.costUsd! - (sonnet.costUsd! + haikuCost)) < 1e-12);
  assert.equal(updates.length, 2);
  assert.equal(updates[1]!.requests, 2);
});

test('an unpriced model counts tokens but no cost; usage() is a copy', () => {
  const { reg } = registry();
  const g = reg.create({ taskId: 't', turn: 1 });
  g.admit('openai', 'my-local-model');
  g.record('openai', 'my-local-model', { ...MODEL_STREAMS.chatJson.expected, model: 'my-local-model' });
  const usage = g.usage();
  assert.equal(usage.costUsd, undefined);
  assert.equal(usage.inputTokens, 220);
  usage.byModel[0]!.inputTokens = 0;
  assert.equal(g.usage().byModel[0]!.inputTokens, 220);
});

test('callbacks that throw: admit fails closed, the others are reported and ignored', () => {
  const errors: string[] = [];
  const { reg } = registry(errors);
  const g = reg.create({
    taskId: 't',
    turn: 1,
    admit: () => {
      throw new Error('redis down');
    },
    onBlocked: () => {
      throw new Error('log down');
    },
  });
  assert.match(g.admit('gemini', 'gemini-2.5-pro') ?? '', /could not check/);
  g.noteBlocked('example.com:443');
  assert.deepEqual(errors, ['admit: redis down', 'onBlocked: log down']);
});

test('blocked targets are reported once each; revoke cuts everything tracked, later tracks at once', () => {
  const blocked: string[] = [];
  const { reg } = registry();
  const g = reg.create({ taskId: 't', turn: 1, onBlocked: (t) => blocked.push(t) });
  g.noteBlocked('evil.com:443');
  g.noteBlocked('evil.com:443');
  g.noteBlocked('evil.com:80');
  assert.deepEqual(blocked, ['evil.com:443', 'evil.com:80']);
  const cut: string[] = [];
  g.track(() => cut.push('a'));
  const untrack = g.track(() => cut.push('b'));
  untrack();
  g.revoke();
  assert.deepEqual(cut, ['a']);
  g.track(() => cut.push('late'));
  assert.deepEqual(cut, ['a', 'late']);
  assert.match(g.admit('openai', 'gpt-5') ?? '', /ended/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldValue, topLevelFields } from './json-scan.js';
import { inspectBody } from './request-body.js';

/** A small deterministic PRNG, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NASTY = [
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\\"',
  'é',
  '🚀',
  '\n',
  '\u0000',
  ' ',
  'model',
  '"model":',
];

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 3 || pick < 0.3) {
    const kind = Math.floor(r() * 5);
    if (kind === 0) return Math.floor(r() * 1e6) / 100 - 5000;
    if (kind === 1) return r() < 0.5;
    if (kind === 2) return null;
    return Array.from({ length: Math.floor(r() * 6) }, () => NASTY[Math.floor(r() * NASTY.length)]).join('');
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  return Object.fromEntries(
    Array.from({ length: Math.floor(r() * 4) }, (_, i) => [
      `${NASTY[Math.floor(r() * NASTY.length)]}${i}`,
      randomValue(r, depth + 1),
    ]),
  );
}

test('fuzz: every top-level field found by the scan is exactly what JSON.parse reads', () => {
  const r = rng(7);
  for (let n = 0; n < 2000; n++) {
    const value = Object.fromEntries(
      Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => [
        `k${i}${NASTY[Math.floor(r() * NASTY.length)]}`,
        randomValue(r, 0),
      ]),
    );
    const indent = [0, 2, '\t'][n % 3] as number | string;
    const text = ` ${JSON.stringify(value, null, indent)}\n`;
    const buf = Buffer.from(text, 'utf8');
    const top = topLevelFields(buf);
    assert.ok(top, text);
    assert.deepEqual([...top.fields.keys()], Object.keys(value), text);
    for (const [key, span] of top.fields) assert.deepEqual(fieldValue(buf, span), value[key], text);
    // Any cut through the document is refused rather than misread.
    const cut = 1 + Math.floor(r() * (buf.length - 2));
    const truncated = topLevelFields(buf.subarray(0, cut));
    if (truncated) assert.equal(buf.subarray(cut).toString().trim(), '', `cut at ${cut}: ${text}`);
  }
});

test('malformed or non-object bodies are not scanned; duplicate names are reported', () => {
  for (const bad of ['', '[]', '"x"', '{', '{"a"}', '{"a":}', '{"a":1,}', '{"a":"x}', '{"a":1} x', '{a:1}']) {
    assert.equal(topLevelFields(Buffer.from(bad)), undefined, bad);
  }
  assert.deepEqual(topLevelFields(Buffer.from(' {} '))?.fields.size, 0);
  const dup = topLevelFields(
    Buffer.from('{"model":"claude-haiku-4-5","x":{"model":1},"model":"claude-opus-4-1"}'),
  )!;
  assert.deepEqual([...dup.duplicates], ['model']);
  assert.equal(
    fieldValue(
      Buffer.from('{"model":"claude-haiku-4-5","x":{"model":1},"model":"claude-opus-4-1"}'),
      dup.fields.get('model'),
    ),
    'claude-opus-4-1',
  );
});

test('a request naming its model twice is refused, so the price and the provider cannot disagree', () => {
  const route = { kind: 'generation' as const, protocol: 'anthropic-messages' as const };
  const body = Buffer.from('{"model":"claude-haiku-4-5","max_tokens":10,"model":"claude-opus-4-1"}');
  assert.match(inspectBody(route, body).refuse ?? '', /"model" more than once/);
  // Nested "model" keys are not top-level and do not count.
  assert.equal(inspectBody(route, Buffer.from('{"model":"a","metadata":{"model":"b"}}')).refuse, undefined);
});

test('include_usage is added to streamed chat bodies without re-serializing the rest', () => {
  const route = { kind: 'generation' as const, protocol: 'openai-chat' as const };
  const original =
    '{ "model" : "gpt-4.1",\n  "stream": true, "messages": [{"role":"user","content":"é \\"q\\" {"}]}';
  const out = inspectBody(route, Buffer.from(original));
  assert.equal(out.rewritten, true);
  assert.equal(out.model, 'gpt-4.1');
  const text = out.body.toString();
  assert.ok(text.endsWith(original.slice(1)), 'the original bytes follow the inserted field');
  assert.deepEqual(JSON.parse(text), { ...JSON.parse(original), stream_options: { include_usage: true } });
  const nulled = inspectBody(route, Buffer.from('{"model":"m","stream":true,"stream_options":null}'));
  assert.deepEqual(JSON.parse(nulled.body.toString()).stream_options, { include_usage: true });
  const off = inspectBody(
    route,
    Buffer.from('{"model":"m","stream":true,"stream_options":{"include_usage":false}}'),
  );
  assert.deepEqual(JSON.parse(off.body.toString()).stream_options, { include_usage: true });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED, Redactor } from './redact.js';

// biome-ignore lint/suspicious/noExplicitAny: redacted copies are inspected field by field
type Loose = Record<string, any>;

// Token-shaped fixtures are assembled at runtime so secret scanners don't flag this file.
const gh = (prefix: string) => `${prefix}_${'A1b2C3d4E5'.repeat(4)}`;
const ghs = gh('ghs');

describe('registered secrets', () => {
  test('every occurrence is replaced', () => {
    const r = new Redactor();
    r.add('hunter2-password');
    assert.equal(r.redact('a hunter2-password b hunter2-password'), `a ${REDACTED} b ${REDACTED}`);
  });

  test('secrets shorter than 8 characters are ignored', () => {
    const r = new Redactor();
    r.add('short');
    r.add('');
    assert.equal(r.redact('a short text'), 'a short text');
  });

  test('regex metacharacters in secrets are literal', () => {
    const r = new Redactor();
    r.add('a.b*c+d?(e)[f]{g}|h^$\\/-');
    assert.equal(r.redact('x a.b*c+d?(e)[f]{g}|h^$\\/- y'), `x ${REDACTED} y`);
    assert.equal(r.redact('x aXb*c+d y'), 'x aXb*c+d y');
  });

  test('added later: the regex is rebuilt', () => {
    const r = new Redactor();
    assert.equal(r.redact('value-one-123 value-two-456'), 'value-one-123 value-two-456');
    r.add('value-one-123');
    assert.equal(r.redact('value-one-123 value-two-456'), `${REDACTED} value-two-456`);
    r.add('value-two-456');
    assert.equal(r.redact('value-one-123 value-two-456'), `${REDACTED} ${REDACTED}`);
  });

  test('a secret containing another is hidden whole', () => {
    const r = new Redactor();
    r.add('abcdefgh');
    r.add('abcdefgh-ijklmnop');
    assert.equal(r.redact('[abcdefgh-ijklmnop]'), `[${REDACTED}]`);
  });

  test('the URL-encoded form is hidden too', () => {
    const r = new Redactor();
    r.add('p@ss/word+1');
    assert.equal(r.redact('q=p%40ss%2Fword%2B1&x=1'), `q=${REDACTED}&x=1`);
  });

  test('remove forgets a secret', () => {
    const r = new Redactor();
    r.add('expired-token-1');
    r.remove('expired-token-1');
    assert.equal(r.redact('expired-token-1'), 'expired-token-1');
  });
});

describe('built-in token shapes', () => {
  const r = new Redactor();
  const cases: Array<[string, string, string]> = [
    ['GitHub installation token', `token is ${ghs}.`, `token is ${REDACTED}.`],
    ['GitHub PAT', `x ${gh('ghp')} y`, `x ${REDACTED} y`],
    ['GitHub OAuth token', gh('gho'), REDACTED],
    ['GitHub fine-grained PAT', `github_pat_11ABCDEFG0${'x_Y'.repeat(20)}`, REDACTED],
    ['GitLab PAT', `glpat-${'a1B2-c3D4_'.repeat(2)}`, REDACTED],
    ['Anthropic key', `ANTHROPIC_API_KEY=sk-ant-api03-${'Ab9_'.repeat(10)}`, `ANTHROPIC_API_KEY=${REDACTED}`],
    ['OpenAI key', `key: sk-proj-${'Zz09'.repeat(8)}`, `key: ${REDACTED}`],
    [
      'Bearer header',
      `Authorization: Bearer ${'abc.DEF-123'.repeat(3)}`,
      `Authorization: Bearer ${REDACTED}`,
    ],
    ['token header', `authorization: token ${ghs}`, `authorization: token ${REDACTED}`],
    ['token header with a short token', 'Authorization: token abc123', `Authorization: token ${REDACTED}`],
    ['JSON header', `{"authorization":"token x-y-z-123"}`, `{"authorization":"token ${REDACTED}"}`],
    ['Basic header', 'Authorization: Basic dXNlcjpwYXNz', `Authorization: Basic ${REDACTED}`],
    [
      'URL credentials',
      'git clone https://x-access-token:s3cr3t!@github.com/o/r.git',
      `git clone https://x-access-token:${REDACTED}@github.com/o/r.git`,
    ],
    [
      'URL credentials, other scheme',
      'redis://default:pa55word@redis:6379',
      `redis://default:${REDACTED}@redis:6379`,
    ],
    [
      'URL credentials with an empty user',
      'REDIS_URL=redis://:pa55word@redis:6379/0',
      `REDIS_URL=redis://:${REDACTED}@redis:6379/0`,
    ],
    [
      'URL credentials with an empty user, in a list of URLs',
      'rediss://:s3cret-pw@a:6380,amqp://:other-pw@b/vhost',
      `rediss://:${REDACTED}@a:6380,amqp://:${REDACTED}@b/vhost`,
    ],
    ['JWT', `jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.${'sig_-'.repeat(10)} end`, `jwt ${REDACTED} end`],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(r.redact(input), expected));
  }

  test('PEM private key blocks, whole', () => {
    const pem = `-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc+/=\n-----END RSA PRIVATE KEY-----`;
    assert.equal(r.redact(`key:\n${pem}\nafter`), `key:\n${REDACTED}\nafter`);
    const pkcs8 = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
    assert.equal(r.redact(pkcs8), REDACTED);
  });

  test('a PEM block cut short is hidden to the end', () => {
    assert.equal(r.redact('x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk'), `x ${REDACTED}`);
  });

  test('ordinary text is left alone', () => {
    const text = [
      'task-runner finished in 3s; disk-usage ok',
      'the token was refreshed',
      'https://github.com/o/r/pull/1 and http://localhost:3000/path',
      'http://:8080/health and ssh://git@example.com/o/r.git',
      'Bearer of bad news',
      'public certificate: -----BEGIN CERTIFICATE-----',
      'sk-short',
      'ghp_short',
    ].join('\n');
    assert.equal(r.redact(text), text);
  });

  test('short and non-string input passes through', () => {
    assert.equal(r.redact(''), '');
    assert.equal(r.redact('ok'), 'ok');
    assert.equal(r.redact(undefined as unknown as string), undefined);
  });
});

describe('redactObject', () => {
  test('deep: strings in nested objects and arrays', () => {
    const r = new Redactor();
    r.add('my-webhook-secret');
    const input = {
      msg: 'x',
      nested: { list: ['a', `t=${ghs}`, { s: 'my-webhook-secret' }], n: 1, ok: true, no: null },
    };
    assert.deepEqual(r.redactObject(input), {
      msg: 'x',
      nested: { list: ['a', `t=${REDACTED}`, { s: REDACTED }], n: 1, ok: true, no: null },
    });
    // The input is not modified.
    assert.equal(input.nested.list[1], `t=${ghs}`);
  });

  test('secret-named keys are blanked whatever the value looks like; counts are kept', () => {
    const r = new Redactor();
    const out = r.redactObject({
      headers: { authorization: 'abc', Cookie: 'session=1', 'x-api-key': 'k' },
      password: 'pw',
      token: 'anything',
      usage: { token: 1234, tokens: 99 },
      apiKey: '',
    });
    assert.deepEqual(out, {
      headers: { authorization: REDACTED, Cookie: REDACTED, 'x-api-key': REDACTED },
      password: REDACTED,
      token: REDACTED,
      usage: { token: 1234, tokens: 99 },
      apiKey: '',
    });
  });

  test('errors keep type, message, stack and own fields, redacted', () => {
    const r = new Redactor();
    const error = Object.assign(new Error(`failed with ${ghs}`), {
      status: 401,
      request: { headers: { authorization: `token ${ghs}` } },
    });
    const out = r.redactObject({ err: error }) as { err: Loose };
    assert.equal(out.err.type, 'Error');
    assert.equal(out.err.message, `failed with ${REDACTED}`);
    assert.ok(!String(out.err.stack).includes(ghs));
    assert.equal(out.err.status, 401);
    assert.equal(out.err.request.headers.authorization, REDACTED);
    assert.ok(!JSON.stringify(out).includes(ghs));
  });

  test('error causes are followed', () => {
    const r = new Redactor();
    const out = r.redactObject(new Error('outer', { cause: new Error(`inner ${ghs}`) })) as Loose;
    assert.equal(out.cause.message, `inner ${REDACTED}`);
  });

  test('cycles, URLs, dates, buffers, maps', () => {
    const r = new Redactor();
    const a: Record<string, unknown> = { url: new URL('https://u:secretpass@h/x') };
    a.self = a;
    const date = new Date(0);
    const buffer = Buffer.from('x');
    const map = new Map([
      ['password', 'pw'],
      ['k', `v ${ghs}`],
    ]);
    const out = r.redactObject({ a, date, buffer, map }) as Loose;
    assert.equal(out.a.url, `https://u:${REDACTED}@h/x`);
    assert.equal(out.a.self, out.a);
    assert.equal(out.date, date);
    assert.equal(out.buffer, buffer);
    assert.deepEqual(
      [...out.map],
      [
        ['password', REDACTED],
        ['k', `v ${REDACTED}`],
      ],
    );
  });

  test('primitives pass through', () => {
    const r = new Redactor();
    assert.equal(r.redactObject(5), 5);
    assert.equal(r.redactObject(null), null);
    assert.equal(r.redactObject(`x ${ghs}`), `x ${REDACTED}`);
  });

  test('unreadable objects do not throw', () => {
    const r = new Redactor();
    const hostile = {
      get boom(): string {
        throw new Error('boom');
      },
    };
    assert.deepEqual(r.redactObject({ hostile }), { hostile: '[unreadable]' });
  });
});

describe('speed', () => {
  test('100 secrets, 10k log lines, well under a second', () => {
    const r = new Redactor();
    for (let i = 0; i < 100; i++) r.add(`secret-value-${i}-${'x'.repeat(i % 20)}`);
    const line = `{"level":30,"msg":"turn 3 running","repo":"o/r","url":"https://github.com/o/r/pull/1","n":42} ${'lorem ipsum '.repeat(10)}`;
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) r.redact(line);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `${elapsed.toFixed(0)} ms`);
  });

  test('pathological 200 KB inputs stay linear', () => {
    const r = new Redactor();
    r.add('some-secret-value');
    const big = 200 * 1024;
    const inputs = [
      'a'.repeat(big),
      'a:'.repeat(big / 2),
      `https://${'u'.repeat(big)}`,
      `https://u:${'p'.repeat(big)}`,
      `eyJ${'a'.repeat(big)}`,
      `-----BEGIN PRIVATE KEY-----${' '.repeat(big)}`,
      'Bearer '.repeat(big / 7),
      'ghp_'.repeat(big / 4),
      '-'.repeat(big),
      'authorization: '.repeat(big / 15),
    ];
    const started = performance.now();
    for (const input of inputs) r.redact(input);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `${elapsed.toFixed(0)} ms`);
  });
});

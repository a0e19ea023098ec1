import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nearestCommand } from './near-miss.js';
import { parseCommand, renderHelp } from './parse.js';
import type { ForgeCommand } from './types.js';

const opts = { allowedAgents: ['claude', 'codex', 'command'] };
const parse = (body: string) => parseCommand(body, opts);

function reply(result: ForgeCommand | null): string {
  assert.ok(result && result.kind === 'invalid', `expected invalid, got ${JSON.stringify(result)}`);
  return result.reply;
}

describe('addressing', () => {
  for (const body of [
    '',
    'hello',
    'please /forge fix it',
    '/forgeX do it',
    '/forge-bot do it',
    '/forge: do it',
    '> /forge quoted',
    '`/forge run`',
    'forge do it',
    '//forge do it',
  ]) {
    test(`not addressed: ${JSON.stringify(body)}`, () => assert.equal(parse(body), null));
  }

  test('leading whitespace and any case are fine', () => {
    assert.deepEqual(parse('  \n\t/forge fix it'), { kind: 'run', instruction: 'fix it', options: {} });
    assert.deepEqual(parse('/FORGE fix it'), { kind: 'run', instruction: 'fix it', options: {} });
    assert.deepEqual(parse('/Forge\tfix it'), { kind: 'run', instruction: 'fix it', options: {} });
  });

  test('a non-string body is not addressed (defensive)', () => {
    assert.equal(parseCommand(undefined as unknown as string, opts), null);
  });
});

describe('commands', () => {
  test('help, status, stop alone', () => {
    assert.deepEqual(parse('/forge help'), { kind: 'help' });
    assert.deepEqual(parse('/forge status'), { kind: 'status' });
    assert.deepEqual(parse('/forge stop'), { kind: 'stop' });
    assert.deepEqual(parse('/forge STOP'), { kind: 'stop' });
    assert.deepEqual(parse('/forge stop!'), { kind: 'stop' });
    assert.deepEqual(parse('/forge help?'), { kind: 'help' });
    assert.deepEqual(parse('  /forge   status  \r\n\r\n  '), { kind: 'status' });
  });

  test('a command word with text is invalid and says how to do either', () => {
    const r = reply(parse('/forge stop using tabs'));
    assert.match(r, /`\/forge stop` takes no text/);
    assert.match(r, /comment just `\/forge stop`/);
    assert.match(r, /don't start it with "stop"/);
    assert.doesNotMatch(r, /\n/);
    assert.match(reply(parse('/forge help me write tests')), /`\/forge help` takes no text/);
    assert.match(reply(parse('/forge status report please')), /`\/forge status` takes no text/);
    // Text on a later line counts too: a stop that might be an instruction must not be guessed.
    assert.match(reply(parse('/forge stop\nand instead update the docs')), /takes no text/);
  });

  test('a command word is a command only as the first word', () => {
    assert.deepEqual(parse('/forge please stop the flaky test'), {
      kind: 'run',
      instruction: 'please stop the flaky test',
      options: {},
    });
    assert.deepEqual(parse('/forge helpful error messages'), {
      kind: 'run',
      instruction: 'helpful error messages',
      options: {},
    });
  });

  test('a command word on a later line is instruction text', () => {
    assert.deepEqual(parse('/forge\nstop logging tokens'), {
      kind: 'run',
      instruction: 'stop logging tokens',
      options: {},
    });
  });

  test('`--` lets an instruction start with a command word', () => {
    assert.deepEqual(parse('/forge -- stop retrying on 404'), {
      kind: 'run',
      instruction: 'stop retrying on 404',
      options: {},
    });
    assert.deepEqual(parse('/forge -- stop'), { kind: 'run', instruction: 'stop', options: {} });
  });

  test('options before a bare command word are a mistake, not an instruction', () => {
    assert.match(reply(parse('/forge --agent claude stop')), /`\/forge stop` takes no options/);
    assert.deepEqual(parse('/forge --agent claude stop the retries'), {
      kind: 'run',
      instruction: 'stop the retries',
      options: { agent: 'claude' },
    });
  });
});

describe('conversation commands: plan, approve, continue', () => {
  test('plan takes the instruction, multi-line, with options after the word', () => {
    assert.deepEqual(parse('/forge plan move the cache to Redis'), {
      kind: 'plan',
      instruction: 'move the cache to Redis',
      options: {},
    });
    assert.deepEqual(parse('/forge Plan: the migration\n\n- keep the API'), {
      kind: 'plan',
      instruction: 'the migration\n\n- keep the API',
      options: {},
    });
    assert.deepEqual(parse('/forge plan\nstart on the next line'), {
      kind: 'plan',
      instruction: 'start on the next line',
      options: {},
    });
    assert.deepEqual(parse('/forge plan --agent codex --model m1 do it'), {
      kind: 'plan',
      instruction: 'do it',
      options: { agent: 'codex', model: 'm1' },
    });
    // After `plan`, a command word is just the instruction.
    assert.deepEqual(parse('/forge plan stop retrying'), {
      kind: 'plan',
      instruction: 'stop retrying',
      options: {},
    });
  });

  test('plan without an instruction, or with a bad option, is invalid', () => {
    for (const body of ['/forge plan', '/forge plan   ', '/forge plan\n\n', '/forge plan --agent claude']) {
      const r = reply(parse(body));
      assert.match(r, /`\/forge plan` needs an instruction/, body);
      assert.doesNotMatch(r, /\n/);
    }
    assert.match(reply(parse('/forge plan --agent gemini do it')), /Unknown agent `gemini`/);
    assert.match(reply(parse('/forge plan --fast do it')), /Unknown option `--fast`/);
  });

  test('approve takes optional edits', () => {
    assert.deepEqual(parse('/forge approve'), { kind: 'approve' });
    assert.deepEqual(parse('/forge APPROVE!'), { kind: 'approve' });
    assert.deepEqual(parse('  /forge approve  \r\n  '), { kind: 'approve' });
    assert.deepEqual(parse('/forge approve, but skip step 3'), { kind: 'approve', edits: 'but skip step 3' });
    assert.deepEqual(parse('/forge approve\n\nUse tabs.\nAnswer: yes, date them.'), {
      kind: 'approve',
      edits: 'Use tabs.\nAnswer: yes, date them.',
    });
  });

  test('continue takes no text and no options', () => {
    assert.deepEqual(parse('/forge continue'), { kind: 'continue' });
    assert.deepEqual(parse('/forge Continue.'), { kind: 'continue' });
    const r = reply(parse('/forge continue with the tests'));
    assert.match(r, /`\/forge continue` takes no text/);
    assert.doesNotMatch(r, /\n/);
    assert.match(reply(parse('/forge --agent claude continue')), /`\/forge continue` takes no options/);
    assert.match(reply(parse('/forge --agent claude approve')), /`\/forge approve` takes no options/);
  });

  test('plan, approve and continue are commands only as the first word', () => {
    assert.deepEqual(parse('/forge make a plan for the cache'), {
      kind: 'run',
      instruction: 'make a plan for the cache',
      options: {},
    });
    assert.deepEqual(parse('/forge please continue the refactor'), {
      kind: 'run',
      instruction: 'please continue the refactor',
      options: {},
    });
    assert.deepEqual(parse('/forge planning notes in the README'), {
      kind: 'run',
      instruction: 'planning notes in the README',
      options: {},
    });
    assert.deepEqual(parse('/forge approved-list support'), {
      kind: 'run',
      instruction: 'approved-list support',
      options: {},
    });
    assert.deepEqual(parse('/forge\nplan the move'), {
      kind: 'run',
      instruction: 'plan the move',
      options: {},
    });
    assert.deepEqual(parse('/forge -- plan the move'), {
      kind: 'run',
      instruction: 'plan the move',
      options: {},
    });
    assert.deepEqual(parse('/forge -- continue'), { kind: 'run', instruction: 'continue', options: {} });
    assert.deepEqual(parse('/forge --agent claude plan the move'), {
      kind: 'run',
      instruction: 'plan the move',
      options: { agent: 'claude' },
    });
  });
});

describe('address-reviews', () => {
  test('alone, with notes (multi-line) and with options after the word', () => {
    assert.deepEqual(parse('/forge address-reviews'), { kind: 'address_reviews', options: {} });
    assert.deepEqual(parse('/forge Address-Reviews!'), { kind: 'address_reviews', options: {} });
    assert.deepEqual(parse('  /forge address-review  \r\n'), { kind: 'address_reviews', options: {} });
    assert.deepEqual(parse('/forge address-reviews but keep the public API\nand the docs'), {
      kind: 'address_reviews',
      instruction: 'but keep the public API\nand the docs',
      options: {},
    });
    assert.deepEqual(parse('/forge address-reviews --agent codex --model m1'), {
      kind: 'address_reviews',
      options: { agent: 'codex', model: 'm1' },
    });
    assert.deepEqual(parse('/forge address-reviews --agent=claude -- --strict please'), {
      kind: 'address_reviews',
      instruction: '--strict please',
      options: { agent: 'claude' },
    });
  });

  test('bad options after the word, and options before it, are invalid and say why', () => {
    assert.match(reply(parse('/forge address-reviews --agent gemini')), /Unknown agent `gemini`/);
    assert.match(reply(parse('/forge address-reviews --fast')), /Unknown option `--fast`/);
    const before = reply(parse('/forge --agent claude address-reviews'));
    assert.match(before, /Options go after the command word: `\/forge address-reviews --agent <name>`/);
    assert.doesNotMatch(before, /\n/);
  });

  test('a command only as the first word', () => {
    assert.deepEqual(parse('/forge please address-reviews'), {
      kind: 'run',
      instruction: 'please address-reviews',
      options: {},
    });
    assert.deepEqual(parse('/forge -- address-reviews'), {
      kind: 'run',
      instruction: 'address-reviews',
      options: {},
    });
    assert.deepEqual(parse('/forge address-reviewers list'), {
      kind: 'run',
      instruction: 'address-reviewers list',
      options: {},
    });
  });
});

describe('run', () => {
  test('the instruction is the rest, trimmed, multi-line preserved', () => {
    const body =
      '/forge Add a parser.\n\n- handle `--flags`\n- /forge inside text is fine\n\n```ts\nx()\n```\n';
    assert.deepEqual(parse(body), {
      kind: 'run',
      instruction: 'Add a parser.\n\n- handle `--flags`\n- /forge inside text is fine\n\n```ts\nx()\n```',
      options: {},
    });
  });

  test('CRLF bodies come out with LF', () => {
    assert.deepEqual(parse('/forge one\r\ntwo\r\n'), { kind: 'run', instruction: 'one\ntwo', options: {} });
  });

  test('the instruction may start on the next line', () => {
    assert.deepEqual(parse('/forge\n\nRefactor the cache.\nKeep the API.'), {
      kind: 'run',
      instruction: 'Refactor the cache.\nKeep the API.',
      options: {},
    });
  });

  test('later /forge lines are just text', () => {
    assert.deepEqual(parse('/forge fix it\n/forge stop\n/forge --agent nope'), {
      kind: 'run',
      instruction: 'fix it\n/forge stop\n/forge --agent nope',
      options: {},
    });
  });

  test('`/forge` with nothing after it is a request for help; options or `--` alone point to help', () => {
    for (const body of ['/forge', '/forge   ', '/forge\n\n  \n', '  /FORGE\t', '/forge\r\n']) {
      assert.deepEqual(parse(body), { kind: 'help' }, JSON.stringify(body));
    }
    assert.match(reply(parse('/forge --agent claude')), /Options alone do nothing.*`\/forge help`/);
    assert.match(reply(parse('/forge --')), /`\/forge help`/);
  });
});

describe('unknown command words', () => {
  const miss = (body: string) => {
    const result = parse(body);
    assert.ok(result?.kind === 'invalid', `${body}: expected invalid, got ${JSON.stringify(result)}`);
    assert.equal(result.help, true, `${body}: the help follows the reply`);
    return result.reply;
  };

  test('a lone word near a command is answered with the command it likely meant, never run', () => {
    for (const [body, meant] of [
      ['/forge stauts', 'status'],
      ['/forge Stauts', 'status'],
      ['/forge stats', 'status'],
      ['/forge stat', 'status'],
      ['/forge statsu!', 'status'],
      ['/forge hlep', 'help'],
      ['/forge halp?', 'help'],
      ['/forge sotp', 'stop'],
      ['/forge stp', 'stop'],
      ['/forge contineu', 'continue'],
      ['/forge cont', 'continue'],
      ['/forge plna', 'plan'],
      ['/forge aprove', 'approve'],
      ['/forge address_reviews', 'address-reviews'],
      ['/forge addressreviews', 'address-reviews'],
      ['/forge adress-reviews', 'address-reviews'],
    ] as const) {
      const r = miss(body);
      assert.match(r, new RegExp(`is not a Forge command — did you mean \`/forge ${meant}\`\\?`), body);
      assert.doesNotMatch(r, /\n/);
    }
    assert.match(miss('/forge stauts'), /^`stauts` is not a Forge command/);
    assert.match(miss('/forge stauts'), /put `--` before it: `\/forge -- <instruction>`/);
  });

  test('a near-miss with options around it is still a near-miss', () => {
    assert.match(miss('/forge stauts --verbose'), /did you mean `\/forge status`/);
    assert.match(miss('/forge plna --agent codex'), /did you mean `\/forge plan`/);
    assert.match(miss('/forge --agent codex stauts'), /did you mean `\/forge status`/);
    assert.match(
      miss('/forge --agent claude plan'),
      /Options go after the command word: `\/forge plan --agent/,
    );
    assert.match(miss('/forge stop --agent codex'), /`\/forge stop` takes no options \(`--agent`\)/);
    assert.match(miss('/forge status --json'), /`\/forge status` takes no options \(`--json`\)/);
  });

  test('real instructions still run: more words, words far from every command, and `--`', () => {
    for (const instruction of [
      'refactor',
      'test',
      'tests',
      'lint',
      'docs',
      'start',
      'deploy',
      'fix the login bug',
      'stauts page is broken',
      'stat the files in src',
      'plna',
    ]) {
      const body = instruction === 'plna' ? '/forge -- plna' : `/forge ${instruction}`;
      assert.deepEqual(parse(body), { kind: 'run', instruction, options: {} }, body);
    }
    assert.deepEqual(parse('/forge stauts\nthe status page shows stale data'), {
      kind: 'run',
      instruction: 'stauts\nthe status page shows stale data',
      options: {},
    });
    assert.deepEqual(parse('/forge refactor --dry-run'), {
      kind: 'run',
      instruction: 'refactor --dry-run',
      options: {},
    });
  });

  test('unknown options come with the help', () => {
    assert.match(miss('/forge --fast do it'), /Unknown option `--fast`/);
    assert.match(miss('/forge plan --fast do it'), /Unknown option `--fast`/);
    assert.match(miss('/forge address-reviews --fast'), /Unknown option `--fast`/);
  });
});

describe('options', () => {
  test('--agent and --model, spaced or with =', () => {
    assert.deepEqual(parse('/forge --agent codex --model gpt-5.1 do it'), {
      kind: 'run',
      instruction: 'do it',
      options: { agent: 'codex', model: 'gpt-5.1' },
    });
    assert.deepEqual(parse('/forge --model=anthropic/claude-sonnet-4@2025:1 --agent=claude do it'), {
      kind: 'run',
      instruction: 'do it',
      options: { agent: 'claude', model: 'anthropic/claude-sonnet-4@2025:1' },
    });
  });

  test('agent names match case-insensitively and come back as configured', () => {
    assert.deepEqual(parse('/forge --agent CLAUDE go'), {
      kind: 'run',
      instruction: 'go',
      options: { agent: 'claude' },
    });
  });

  test('an option name is case-insensitive; a phone-made dash counts for known names', () => {
    assert.deepEqual(parse('/forge --AGENT claude go'), {
      kind: 'run',
      instruction: 'go',
      options: { agent: 'claude' },
    });
    assert.deepEqual(parse('/forge —agent claude go'), {
      kind: 'run',
      instruction: 'go',
      options: { agent: 'claude' },
    });
    assert.deepEqual(parse('/forge –model=m1 go'), {
      kind: 'run',
      instruction: 'go',
      options: { model: 'm1' },
    });
    // A dash before an ordinary word is prose.
    assert.deepEqual(parse('/forge — tidy up'), { kind: 'run', instruction: '— tidy up', options: {} });
    assert.deepEqual(parse('/forge -v is broken'), { kind: 'run', instruction: '-v is broken', options: {} });
  });

  test('options only lead: later --words are text', () => {
    assert.deepEqual(parse('/forge fix --agent handling'), {
      kind: 'run',
      instruction: 'fix --agent handling',
      options: {},
    });
    assert.deepEqual(parse('/forge --agent claude\n--verbose should print more'), {
      kind: 'run',
      instruction: '--verbose should print more',
      options: { agent: 'claude' },
    });
  });

  test('`--` ends options', () => {
    assert.deepEqual(parse('/forge --agent claude -- --model is ignored here'), {
      kind: 'run',
      instruction: '--model is ignored here',
      options: { agent: 'claude' },
    });
  });

  test('unknown option lists the allowed ones and the agents', () => {
    const r = reply(parse('/forge --fast do it'));
    assert.match(r, /Unknown option `--fast`/);
    assert.match(r, /`--agent <name>`/);
    assert.match(r, /`--model <name>`/);
    assert.match(r, /`claude`, `codex`, `command`/);
    assert.match(reply(parse('/forge --=x do it')), /Unknown option/);
    assert.match(reply(parse('/forge ---agent claude do it')), /Unknown option `---agent`/);
  });

  test('unknown agent lists allowed agents', () => {
    const r = reply(parse('/forge --agent gemini do it'));
    assert.match(r, /Unknown agent `gemini`/);
    assert.match(r, /Allowed agents: `claude`, `codex`, `command`/);
    assert.match(
      reply(parseCommand('/forge --agent x do it', { allowedAgents: [] })),
      /No agents are enabled/,
    );
  });

  test('missing values', () => {
    assert.match(reply(parse('/forge --agent')), /`--agent` needs a value/);
    assert.match(reply(parse('/forge --agent\nclaude do it')), /`--agent` needs a value on the same line/);
    assert.match(reply(parse('/forge --agent --model x do it')), /`--agent` needs a value/);
    assert.match(reply(parse('/forge --model= do it')), /`--model` needs a value/);
    assert.match(reply(parse('/forge --model -- do it')), /`--model` needs a value/);
  });

  test('model names are checked against a safe charset and length', () => {
    assert.match(reply(parse('/forge --model gpt;rm do it')), /not a valid model name/);
    assert.match(reply(parse('/forge --model=$(id) do it')), /not a valid model name/);
    assert.match(reply(parse(`/forge --model ${'a'.repeat(101)} do it`)), /not a valid model name/);
    assert.deepEqual(parse(`/forge --model ${'a'.repeat(100)} do it`), {
      kind: 'run',
      instruction: 'do it',
      options: { model: 'a'.repeat(100) },
    });
  });

  test('an option given twice is invalid', () => {
    assert.match(reply(parse('/forge --agent claude --agent codex go')), /`--agent` is given twice/);
  });

  test('replies quote user input safely: short, no backticks, no line breaks', () => {
    const r = reply(parse(`/forge --agent \`@everyone${'x'.repeat(500)} do it`));
    assert.ok(r.length < 300, r);
    assert.doesNotMatch(r, /``/);
    assert.match(r, /Unknown agent `[^`]*…`/);
  });
});

describe('renderHelp', () => {
  test('lists commands, options, agents and the label', () => {
    const help = renderHelp({ allowedAgents: ['claude', 'codex'], triggerLabel: 'forge' });
    for (const needle of [
      '`/forge <instruction>`',
      '`/forge help`',
      '`/forge status`',
      '`/forge stop`',
      '`/forge plan <instruction>`',
      '`/forge approve [changes]`',
      '`/forge continue`',
      '`/forge address-reviews [notes]`',
      'answers in each thread',
      '`--agent <name>`',
      '`--model <name>`',
      '`claude`, `codex`',
      '`forge` label',
      'write access',
    ]) {
      assert.ok(help.includes(needle), needle);
    }
  });

  test('speaks the host’s words (GitLab: merge requests, the Developer role)', () => {
    const help = renderHelp({
      allowedAgents: ['command'],
      triggerLabel: 'forge',
      words: { changeRequest: 'merge request', writeAccess: 'the Developer role or higher in this project' },
    });
    assert.match(help, /opens or updates a merge request/);
    assert.match(help, /Only people with the Developer role or higher in this project can run Forge\./);
    assert.ok(!help.includes('pull request'));
  });

  test('says when no agents are enabled', () => {
    assert.match(renderHelp({ allowedAgents: [], triggerLabel: 'ai' }), /none enabled/);
  });
});

// ---------------------------------------------------------------------------------------------
// Property test: a seeded PRNG drives thousands of hostile bodies; a failure prints the seed and
// case index so it can be replayed.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '/forge',
  '/FORGE',
  '/forgex',
  '/forge:',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '\u00a0',
  '\u2028',
  '\u3000',
  '--',
  '---',
  '--agent',
  '--agent=',
  '--agent=claude',
  '--model',
  '--model=',
  '--model=a/b',
  'claude',
  'codex',
  'nope',
  '--x',
  '-',
  '—agent',
  '–model',
  'help',
  'status',
  'stop',
  'STOP!',
  'plan',
  'Plan:',
  'approve',
  'approve,',
  'continue',
  'Continue!',
  'address-reviews',
  'Address-Reviews!',
  '`',
  '@everyone',
  '=',
  '$(id)',
  'fix the bug',
  '😀',
  '\u0000',
  '\ud800',
  'ﬀ',
  'İ',
  '\u200b',
  '\ufeff',
  '>',
  '#',
  'x'.repeat(50),
];
const KINDS = new Set([
  'run',
  'help',
  'status',
  'stop',
  'invalid',
  'plan',
  'approve',
  'continue',
  'address_reviews',
]);

function randomBody(rand: () => number): string {
  const r = rand();
  const parts: string[] = [];
  if (r < 0.6) parts.push(pick(rand, ['/forge', '/FORGE', ' /forge', '\n\t/Forge', '/forge ']));
  const n = Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    const k = rand();
    if (k < 0.7) parts.push(pick(rand, PIECES));
    else if (k < 0.95) parts.push(randomUnicode(rand, 1 + Math.floor(rand() * 20)));
    else parts.push(pick(rand, PIECES).repeat(1 + Math.floor(rand() * 2000)));
  }
  return parts.join(rand() < 0.5 ? ' ' : '');
}

function randomUnicode(rand: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const plane = rand();
    const cp =
      plane < 0.6
        ? 32 + Math.floor(rand() * 95)
        : plane < 0.9
          ? Math.floor(rand() * 0xffff)
          : 0x10000 + Math.floor(rand() * 0xfffff);
    s += String.fromCodePoint(cp);
  }
  return s;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function checkProperties(body: string, label: string): void {
  let result: ForgeCommand | null = null;
  assert.doesNotThrow(() => {
    result = parse(body);
  }, label);
  const again = parse(body);
  assert.deepEqual(again, result, `${label}: deterministic`);
  const addressed = /^\s*\/forge(?=\s|$)/i.test(body);
  if (!addressed) {
    assert.equal(result, null, `${label}: not addressed`);
    return;
  }
  const r = result as ForgeCommand | null;
  assert.ok(r !== null, `${label}: addressed bodies get an answer`);
  assert.ok(KINDS.has(r.kind), `${label}: kind ${r.kind}`);
  if (r.kind === 'invalid') {
    assert.ok(r.reply.length > 0 && r.reply.length < 600, `${label}: reply length ${r.reply.length}`);
    assert.ok(r.help === undefined || r.help === true, `${label}: help flag`);
  }
  // A lone word that is nearly a command never runs, unless `--` said it is an instruction.
  if (r.kind === 'run' && !/\s/.test(r.instruction) && !/(^|\s)--(\s|$)/.test(body)) {
    assert.equal(
      nearestCommand(r.instruction.replace(/[.,:;!?]+$/, '')),
      undefined,
      `${label}: near-miss ran`,
    );
  }
  if (r.kind === 'approve' && r.edits !== undefined) {
    assert.ok(r.edits.length > 0, `${label}: empty edits`);
    assert.equal(r.edits, r.edits.trim(), `${label}: edits trimmed`);
    assert.ok(
      body.replace(/\r\n?/g, '\n').trimEnd().endsWith(r.edits),
      `${label}: edits are the body's tail`,
    );
  }
  if (r.kind === 'address_reviews' && r.instruction === undefined) {
    for (const value of Object.values(r.options)) assert.match(value ?? '', /^[A-Za-z0-9._:/@-]{1,100}$/);
  }
  if (
    r.kind === 'run' ||
    r.kind === 'plan' ||
    (r.kind === 'address_reviews' && r.instruction !== undefined)
  ) {
    const instruction = r.instruction ?? '';
    assert.ok(instruction.length > 0, `${label}: empty instruction`);
    assert.equal(instruction, instruction.trim(), `${label}: trimmed`);
    // The instruction is a tail of the body, after the leading `/forge` token.
    const normalized = body.replace(/\r\n?/g, '\n');
    const prefixEnd = /^\s*\/forge/i.exec(normalized)?.[0].length ?? 0;
    assert.ok(normalized.trimEnd().endsWith(instruction), `${label}: instruction is the body's tail`);
    assert.ok(
      normalized.length - normalized.trimEnd().length + instruction.length <= normalized.length - prefixEnd,
      `${label}: instruction excludes the /forge token`,
    );
    for (const value of Object.values(r.options)) {
      assert.match(value ?? '', /^[A-Za-z0-9._:/@-]{1,100}$/, `${label}: option value`);
    }
    if (r.options.agent !== undefined) assert.ok(opts.allowedAgents.includes(r.options.agent));
  }
}

describe('property: thousands of random bodies', () => {
  test('5,000 seeded cases hold every property, well under a second', () => {
    const seed = Number(process.env.PARSE_FUZZ_SEED ?? 0xf0a6e);
    const rand = mulberry32(seed);
    const bodies = Array.from({ length: 5000 }, () => randomBody(rand));
    const started = performance.now();
    for (const body of bodies) parse(body);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `5k parses took ${elapsed.toFixed(0)} ms`);
    for (const [i, body] of bodies.entries()) checkProperties(body, `seed ${seed} case ${i}`);
    // The generator must actually reach every outcome, or the properties prove little.
    const seen = new Set<string>(bodies.map((body) => parse(body)?.kind ?? 'null'));
    for (const kind of [
      'null',
      'run',
      'invalid',
      'help',
      'status',
      'stop',
      'plan',
      'approve',
      'continue',
      'address_reviews',
    ])
      assert.ok(seen.has(kind), kind);
  });

  test('very long bodies (200 KB) parse in linear time', () => {
    const big = 200 * 1024;
    const cases = [
      `/forge ${'fix the bug '.repeat(big / 12)}`,
      `/forge ${'--agent '.repeat(big / 8)}`,
      `/forge ${' '.repeat(big)}`,
      `/forge ${'\n'.repeat(big)}x`,
      `${' '.repeat(big)}/forge do it`,
      ' '.repeat(big),
      `/forge --model ${'a'.repeat(big)} do it`,
      `/forge stop${' '.repeat(big)}x`,
      `/forge ${'—'.repeat(big)}`,
      `/forge ${'\r\n'.repeat(big / 2)}go`,
    ];
    const started = performance.now();
    for (const [i, body] of cases.entries()) checkProperties(body, `long case ${i}`);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `long bodies took ${elapsed.toFixed(0)} ms`);
  });
});

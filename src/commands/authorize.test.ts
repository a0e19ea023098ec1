import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Actor, RepoPermission } from '../forge/types.js';
import { authorize } from './authorize.js';

const human: Actor = { login: 'octocat', id: 1, isBot: false };
const botLogins = ['forge-app[bot]', 'forge-bot'];

describe('authorize', () => {
  const table: Array<[RepoPermission | undefined, 'allow' | 'refuse']> = [
    ['admin', 'allow'],
    ['maintain', 'allow'],
    ['write', 'allow'],
    ['triage', 'refuse'],
    ['read', 'refuse'],
    ['none', 'refuse'],
    [undefined, 'refuse'],
  ];
  for (const [permission, expected] of table) {
    test(`a human with ${permission ?? 'unknown'} permission → ${expected}`, () => {
      assert.equal(authorize({ actor: human, permission, botLogins }).decision, expected);
    });
  }

  test('the refusal is one short line that mentions the user and write access', () => {
    const result = authorize({ actor: human, permission: 'read', botLogins });
    assert.equal(result.decision, 'refuse');
    assert.ok(result.decision === 'refuse');
    assert.match(result.reply, /^@octocat /);
    assert.match(result.reply, /write access/);
    assert.doesNotMatch(result.reply, /\n/);
    assert.ok(result.reply.length < 140);
  });

  const bots: Array<[string, Actor]> = [
    ['isBot flag', { login: 'renovate', id: 2, isBot: true }],
    ['[bot] suffix', { login: 'dependabot[bot]', id: 3, isBot: false }],
    ['[BOT] suffix, any case', { login: 'Some-App[BOT]', id: 4, isBot: false }],
    ['Forge itself', { login: 'forge-app[bot]', id: 5, isBot: true }],
    ['Forge itself under a user account', { login: 'Forge-Bot', id: 6, isBot: false }],
  ];
  for (const [name, actor] of bots) {
    for (const permission of ['admin', 'write', 'read', undefined] as const) {
      test(`bots are ignored silently, whatever their permission: ${name}, ${permission ?? 'unknown'}`, () => {
        const result = authorize({ actor, permission, botLogins });
        assert.equal(result.decision, 'ignore');
        assert.ok(result.decision === 'ignore' && result.reason.length > 0);
      });
    }
  }

  test('a login that merely contains "bot" is a human', () => {
    const actor: Actor = { login: 'botanist', id: 7, isBot: false };
    assert.deepEqual(authorize({ actor, permission: 'write', botLogins }), { decision: 'allow' });
  });

  test('no bot logins configured still ignores [bot] accounts', () => {
    const actor: Actor = { login: 'forge-app[bot]', id: 8, isBot: false };
    assert.equal(authorize({ actor, permission: 'admin', botLogins: [] }).decision, 'ignore');
  });
});

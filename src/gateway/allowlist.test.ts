import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/load.js';
import { isInternalAddress, matchEgress, parseEgressAllow, parseEgressRule } from './allowlist.js';

test('entries: exact names, wildcards, IPs, with and without a port', () => {
  assert.deepEqual(parseEgressRule('Registry.NPMjs.org.'), {
    host: 'registry.npmjs.org',
    wildcard: false,
    entry: 'Registry.NPMjs.org.',
  });
  assert.deepEqual(parseEgressRule('*.pypi.org:8443'), {
    host: 'pypi.org',
    wildcard: true,
    port: 8443,
    entry: '*.pypi.org:8443',
  });
  assert.deepEqual(parseEgressRule('[fd00::1]:3128'), {
    host: 'fd00::1',
    wildcard: false,
    port: 3128,
    entry: '[fd00::1]:3128',
  });
  assert.equal(parseEgressRule('10.0.0.5').host, '10.0.0.5');
});

test('bad entries are refused with the entry and the expected form', () => {
  for (const bad of [
    'https://registry.npmjs.org',
    'registry.npmjs.org:0',
    'registry.npmjs.org:99999',
    '*.*.org',
    'foo*.org',
    '*.10.0.0.1',
    'bad host',
    '[not-v6]:80',
    'a..b',
  ]) {
    assert.throws(
      () => parseEgressRule(bad),
      (error: Error & { code?: string }) =>
        error.code === 'egress_config' &&
        error.message.includes(`"${bad}"`) &&
        /expected a host/.test(error.message),
      bad,
    );
  }
});

test('FORGE_EGRESS_ALLOW is validated by the config loader', () => {
  assert.deepEqual(
    loadConfig({ FORGE_ROLE: 'web', FORGE_EGRESS_ALLOW: 'registry.npmjs.org, *.pypi.org' }).egressAllow,
    ['registry.npmjs.org', '*.pypi.org'],
  );
  assert.throws(
    () => loadConfig({ FORGE_ROLE: 'web', FORGE_EGRESS_ALLOW: 'registry.npmjs.org,https://pypi.org' }),
    /FORGE_EGRESS_ALLOW: "https:\/\/pypi.org" is a URL/,
  );
});

test('matching: exact names, subdomains for wildcards (not the bare suffix), ports', () => {
  const rules = parseEgressAllow([
    'registry.npmjs.org',
    '*.pypi.org',
    '127.0.0.1:8080',
    'git.example.com:22',
  ]);
  assert.ok(matchEgress(rules, 'registry.npmjs.org', 443));
  assert.ok(matchEgress(rules, 'REGISTRY.npmjs.org.', 80));
  assert.equal(matchEgress(rules, 'registry.npmjs.org', 8443), undefined, 'no port: only 443 and 80');
  assert.equal(matchEgress(rules, 'evil-registry.npmjs.org', 443), undefined);
  assert.equal(matchEgress(rules, 'registry.npmjs.org.evil.com', 443), undefined);
  assert.ok(matchEgress(rules, 'files.pypi.org', 443));
  assert.ok(matchEgress(rules, 'a.b.pypi.org', 443));
  assert.equal(matchEgress(rules, 'pypi.org', 443), undefined);
  assert.equal(matchEgress(rules, 'notpypi.org', 443), undefined);
  assert.ok(matchEgress(rules, '127.0.0.1', 8080));
  assert.equal(matchEgress(rules, '127.0.0.1', 8081), undefined);
  assert.ok(matchEgress(rules, 'git.example.com', 22));
  assert.equal(matchEgress(rules, 'git.example.com', 443), undefined);
  assert.equal(matchEgress([], 'registry.npmjs.org', 443), undefined);
});

test('internal addresses: loopback, private, link-local (metadata), CGNAT, mapped IPv6', () => {
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
  ]) {
    assert.ok(isInternalAddress(a), a);
  }
  for (const a of ['::1', '::', 'fd12::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
    assert.ok(isInternalAddress(a), a);
  }
  for (const a of ['104.16.0.35', '151.101.1.63', '2606:4700::6810:84e5', '::ffff:104.16.0.35']) {
    assert.equal(isInternalAddress(a), false, a);
  }
});

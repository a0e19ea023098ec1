/**
 * The egress allowlist (`FORGE_EGRESS_ALLOW`): which host:port an agent may reach through the
 * egress proxy. Entries are exact names or IP addresses (`registry.npmjs.org`, `10.0.0.5`,
 * `[fd00::1]`) or `*.suffix` wildcards (`*.pypi.org` matches `files.pypi.org`, not `pypi.org`),
 * each with an optional `:port`; without one, only the web ports 443 and 80 are allowed.
 */
import { BlockList, isIP } from 'node:net';

export interface EgressRule {
  /** Lower case, without brackets; for wildcards, the suffix without `*.`. */
  host: string;
  wildcard: boolean;
  port?: number;
  /** The entry as the operator wrote it, for logs. */
  entry: string;
}

export class EgressConfigError extends Error {
  readonly code = 'egress_config';
  constructor(message: string) {
    super(message);
    this.name = 'EgressConfigError';
  }
}

const DEFAULT_PORTS = [443, 80];
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A host name as a client may send it: lower case, no trailing dot, IPv6 without brackets. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function validName(host: string): boolean {
  return isIP(host) !== 0 || (host.length <= 253 && host.split('.').every((l) => LABEL.test(l)));
}

export function parseEgressRule(entry: string): EgressRule {
  const raw = entry.trim();
  const bad = (why: string) =>
    new EgressConfigError(
      `"${raw}" ${why}; expected a host such as registry.npmjs.org, *.pypi.org or 10.0.0.5:8080`,
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw bad('is a URL, not a host');
  let host = raw;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
  const named = /^([^:[\]]+)(?::(\d+))?$/.exec(raw);
  const m = v6 ?? named;
  if (!m) throw bad('is not a host[:port]');
  host = m[1]!;
  if (m[2] !== undefined) {
    port = Number(m[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('has an invalid port');
  }
  if (v6 && isIP(host) !== 6) throw bad('is not an IPv6 address');
  const wildcard = host.startsWith('*.');
  host = normalizeHost(wildcard ? host.slice(2) : host);
  if (!host || host.includes('*') || !validName(host)) throw bad('is not a valid host name');
  if (wildcard && isIP(host)) throw bad('puts a wildcard on an IP address');
  const rule: EgressRule = { host, wildcard, entry: raw };
  if (port !== undefined) rule.port = port;
  return rule;
}

export function parseEgressAllow(entries: readonly string[]): EgressRule[] {
  return entries.filter((e) => e.trim()).map(parseEgressRule);
}

/** The rule that lets host:port through, if any. */
export function matchEgress(
  rules: readonly EgressRule[],
  host: string,
  port: number,
): EgressRule | undefined {
  const name = normalizeHost(host);
  return rules.find((rule) => {
    const portOk = rule.port === undefined ? DEFAULT_PORTS.includes(port) : rule.port === port;
    if (!portOk) return false;
    return rule.wildcard ? name.endsWith(`.${rule.host}`) : name === rule.host;
  });
}

const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

/**
 * Loopback, private, link-local (cloud metadata), CGNAT or multicast. A wildcard rule never leads
 * there: anyone who controls a name under the suffix could otherwise point it at the worker's
 * own network (DNS rebinding). Exact entries are the operator's explicit choice and may.
 */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return INTERNAL.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1]!, 'ipv4');
  return INTERNAL.check(address, 'ipv6');
}

/**
 * The egress proxy on the gateway's port, driven by a real client (curl, as an agent's tools
 * would use `HTTPS_PROXY`) and by raw sockets where the exact status line matters: allowlisted
 * hosts tunnel (HTTPS through CONNECT, plain HTTP in absolute form), everything else is refused
 * and reported once, bad credentials get 407, and the gateway itself is reachable through the
 * proxy for clients that ignore NO_PROXY.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { type AddressInfo, connect, createServer as createTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { publicOnlyLookup } from '../../src/gateway/egress.js';
import { proxyEnvironment } from '../../src/gateway/env.js';
import { startModelGateway } from '../../src/gateway/server.js';
import type { ModelGateway, TurnGrant } from '../../src/gateway/types.js';
import { type FakeUpstream, sha256, startFakeUpstream } from '../kit/fake-upstream.js';
import { MODEL_STREAMS } from '../kit/model-streams.js';
import { freePort } from '../kit/net.js';

const run = promisify(execFile);
let dir: string;
let upstream: FakeUpstream;
let gateway: ModelGateway;
let tlsServer: Server;
let plainServer: Server;
let holdServer: ReturnType<typeof createTcp>;
let tlsPort: number;
let plainPort: number;
let holdPort: number;
let unlistedPort: number;
const plainSeen: Record<string, string | string[] | undefined>[] = [];
const blocked: string[] = [];

const listen = async (server: {
  listen: (port: number, host: string, cb: () => void) => unknown;
  address(): unknown;
}) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/** curl through the proxy; resolves with stdout, or the exit code and stderr on failure. */
async function curl(args: string[]): Promise<{ ok: boolean; out: string; err: string; code?: number }> {
  try {
    // A clean environment: no proxy or NO_PROXY variables of the host may change what curl does.
    const { stdout, stderr } = await run('curl', ['-sS', '--max-time', '20', ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    return { ok: true, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { ok: false, out: e.stdout ?? '', err: e.stderr ?? '', code: e.code };
  }
}

/** Sends a raw CONNECT and returns the proxy's response head and the open socket. */
function rawConnect(target: string, auth?: string): Promise<{ head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const url = new URL(gateway.url);
    const socket = connect(Number(url.port), url.hostname);
    let data = '';
    socket.on('error', reject);
    socket.on('data', function onData(chunk) {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      resolve({ head: data.slice(0, end), socket });
    });
    socket.write(
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: Basic ${Buffer.from(auth).toString('base64')}\r\n` : ''}\r\n`,
    );
  });
}

function grant(): TurnGrant {
  const g = gateway.grant({ taskId: 'task-3', turn: 1, onBlocked: (t) => blocked.push(t) });
  upstream.forbid(g.access.token);
  return g;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-egress-'));
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { cwd: dir },
  );
  tlsServer = createHttps(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => res.end(`hello over tls ${req.url}`),
  );
  tlsPort = await listen(tlsServer);
  plainServer = createHttp((req, res) => {
    plainSeen.push({ ...req.headers });
    res.end(`plain ${req.method} ${req.url}`);
  });
  plainPort = await listen(plainServer);
  // Accepts connections and keeps them open, for the revoke test.
  holdServer = createTcp((socket) => socket.on('error', () => undefined));
  holdPort = await listen(holdServer);
  unlistedPort = await freePort();
  upstream = await startFakeUpstream();
  gateway = await startModelGateway({
    host: '127.0.0.1',
    port: 0,
    upstreams: {
      anthropic: { baseUrl: upstream.baseUrls.anthropic, apiKey: upstream.keys.anthropic },
      openai: { baseUrl: upstream.baseUrls.openai },
      gemini: { baseUrl: upstream.baseUrls.gemini },
    },
    egressAllow: [
      `127.0.0.1:${tlsPort}`,
      `127.0.0.1:${plainPort}`,
      `127.0.0.1:${holdPort}`,
      'registry.npmjs.org',
    ],
  });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  tlsServer.close();
  plainServer.close();
  holdServer.close();
  rmSync(dir, { recursive: true, force: true });
  upstream.assertClean();
});

describe('egress proxy', () => {
  test('an allowlisted host: curl tunnels HTTPS through CONNECT with the turn token', async () => {
    const g = grant();
    assert.equal(g.access.proxyUrl, `http://forge:${g.access.token}@${new URL(gateway.url).host}`);
    const r = await curl([
      '--proxy',
      g.access.proxyUrl!,
      '--cacert',
      'cert.pem',
      `https://127.0.0.1:${tlsPort}/pkg`,
    ]);
    assert.deepEqual({ ok: r.ok, out: r.out, err: r.err }, { ok: true, out: 'hello over tls /pkg', err: '' });
    g.revoke();
  });

  test('plain HTTP in absolute form is forwarded without the proxy credentials', async () => {
    const g = grant();
    const r = await curl(['--proxy', g.access.proxyUrl!, `http://127.0.0.1:${plainPort}/simple/?q=1`]);
    assert.equal(r.out, 'plain GET /simple/?q=1');
    assert.equal(plainSeen.at(-1)!['proxy-authorization'], undefined);
    assert.equal(plainSeen.at(-1)!.host, `127.0.0.1:${plainPort}`);
    g.revoke();
  });

  test('a host or port not on the list: 403, reported once per target', async () => {
    const g = grant();
    blocked.length = 0;
    const target = `127.0.0.1:${unlistedPort}`;
    const viaCurl = await curl(['--proxy', g.access.proxyUrl!, '-k', `https://${target}/`]);
    assert.equal(viaCurl.ok, false);
    assert.match(viaCurl.err, /CONNECT tunnel failed, response 403/);
    const raw = await rawConnect(target, `forge:${g.access.token}`);
    assert.match(raw.head, /^HTTP\/1\.1 403 Forbidden/);
    raw.socket.destroy();
    const plain = await curl(['--proxy', g.access.proxyUrl!, '-i', 'http://example.com/']);
    assert.match(plain.out, /^HTTP\/1\.1 403/);
    assert.match(plain.out, /example\.com:80 is not on this Forge's egress allowlist \(FORGE_EGRESS_ALLOW\)/);
    // registry.npmjs.org is listed without a port: only 443 and 80.
    const port = await rawConnect('registry.npmjs.org:8443', `forge:${g.access.token}`);
    assert.match(port.head, /^HTTP\/1\.1 403/);
    port.socket.destroy();
    assert.deepEqual(blocked, [target, 'example.com:80', 'registry.npmjs.org:8443']);
    g.revoke();
  });

  test('missing, wrong or revoked proxy credentials: 407 with a Basic challenge', async () => {
    const g = grant();
    const target = `127.0.0.1:${tlsPort}`;
    for (const auth of [undefined, 'forge:forge-turn-wrong', `forge:${g.access.token}x`]) {
      const r = await rawConnect(target, auth);
      assert.match(r.head, /^HTTP\/1\.1 407 Proxy Authentication Required/, String(auth));
      assert.match(r.head, /proxy-authenticate: Basic realm="forge egress proxy"/i);
      r.socket.destroy();
    }
    const withStatus = await curl([
      '--proxy',
      `http://forge:nope@${new URL(gateway.url).host}`,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://127.0.0.1:${plainPort}/`,
    ]);
    assert.equal(withStatus.out, '407');
    g.revoke();
    const after = await rawConnect(target, `forge:${g.access.token}`);
    assert.match(after.head, /^HTTP\/1\.1 407/);
    after.socket.destroy();
  });

  test('the gateway through its own proxy: CONNECT tunnels (undici ProxyAgent style) and absolute URIs reach it', async () => {
    const g = grant();
    const messages = ['-H', 'content-type: application/json', '-H', `x-api-key: ${g.access.token}`];
    const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [] });
    for (const tunnel of [['--proxytunnel'], []]) {
      const r = await curl([
        '--proxy',
        g.access.proxyUrl!,
        ...tunnel,
        ...messages,
        '--data-binary',
        body,
        `${g.access.anthropicBaseUrl}/v1/messages`,
      ]);
      assert.equal(r.err, '');
      assert.equal(
        sha256(Buffer.from(r.out, 'utf8')),
        sha256(MODEL_STREAMS.anthropicSse.body),
        tunnel.join(' '),
      );
    }
    assert.equal(g.usage().requests, 2);
    // Without a turn token the tunnel opens (proxy auth) but the gateway still refuses.
    const noKey = await curl([
      '--proxy',
      g.access.proxyUrl!,
      '--proxytunnel',
      '-H',
      'content-type: application/json',
      '--data-binary',
      body,
      `${g.access.anthropicBaseUrl}/v1/messages`,
    ]);
    assert.match(noKey.out, /authentication_error/);
    g.revoke();
  });

  test('revoking the turn closes its open tunnels', async () => {
    const g = grant();
    const { head, socket } = await rawConnect(`127.0.0.1:${holdPort}`, `forge:${g.access.token}`);
    assert.match(head, /^HTTP\/1\.1 200 Connection Established/);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    g.revoke();
    await closed;
  });

  test('the agent environment names the proxy and exempts the gateway', () => {
    const g = grant();
    const env = proxyEnvironment(g.access);
    assert.equal(env.HTTPS_PROXY, g.access.proxyUrl);
    assert.equal(env.http_proxy, g.access.proxyUrl);
    // The gateway's host, and loopback, are always reached directly.
    assert.deepEqual(new Set(env.NO_PROXY!.split(',')), new Set(['127.0.0.1', 'localhost', '::1']));
    assert.equal(env.no_proxy, env.NO_PROXY);
    g.revoke();
  });

  test('wildcard rules resolve only to public addresses (no DNS rebinding onto the worker’s network)', async () => {
    const result = await new Promise<{ code?: string; address?: unknown }>((resolve) =>
      publicOnlyLookup('localhost', {}, (error, address) =>
        resolve({ code: (error as NodeJS.ErrnoException | null)?.code, address }),
      ),
    );
    assert.equal(result.code, 'EFORGEINTERNAL');
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { parseEnv } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadConfig, requireGitHubApp } from '../../src/config/load.js';
import {
  type AppManifest,
  loadSetupConfig,
  needsSetup,
  type RunningSetup,
  setupServerOptions,
  startSetupServer,
  updateEnvFile,
} from '../../src/setup/index.js';
import { FakeGitHub } from '../kit/fake-github/index.js';
import { freePort } from '../kit/net.js';

/**
 * Setup mode end to end against the strict fake GitHub: the landing page posts app.yml's manifest to
 * `<GHE>/settings/apps/new`, the return exchanges the code at `POST /app-manifests/{code}/conversions`,
 * and the credentials written to .env are what `loadConfig` + `requireGitHubApp` accept.
 */

let fake: FakeGitHub;
let dir: string;
const running: RunningSetup[] = [];
const appYml = parseYaml(readFileSync(resolve('app.yml'), 'utf8')) as {
  name: string;
  public: boolean;
  default_events: string[];
  default_permissions: Record<string, string>;
};

before(async () => {
  fake = await FakeGitHub.start();
});
after(async () => {
  await fake.close();
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  fake.assertNoViolations();
});

async function startSetup(
  extra: Record<string, string> = {},
): Promise<{ setup: RunningSetup; envPath: string }> {
  dir = mkdtempSync(join(tmpdir(), 'forge-setup-'));
  const envPath = join(dir, '.env');
  const env = {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    GHE_HOST: fake.host,
    GHE_PROTOCOL: 'http',
    LOG_LEVEL: 'silent',
    ...extra,
  };
  const config = loadSetupConfig(env);
  assert.ok(needsSetup(config), 'no APP_ID and no key: setup mode');
  const setup = await startSetupServer(setupServerOptions(config, { env, envPath }));
  running.push(setup);
  return { setup, envPath };
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function landing(
  url: string,
): Promise<{ action: URL; state: string; manifest: AppManifest; res: Response; html: string }> {
  const res = await fetch(url);
  const html = await res.text();
  assert.equal(res.status, 200, html);
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const manifest = /<input type="hidden" name="manifest" value="([^"]*)">/.exec(html)?.[1];
  assert.ok(action && manifest, `the page has the manifest form:\n${html}`);
  const target = new URL(unescapeHtml(action));
  const state = target.searchParams.get('state');
  assert.ok(state && state.length >= 20, 'a state nonce travels with the form');
  return { action: target, state, manifest: JSON.parse(unescapeHtml(manifest)) as AppManifest, res, html };
}

test('registers the App from app.yml and writes its credentials to .env', async () => {
  const { setup, envPath } = await startSetup();
  writeFileSync(envPath, '# mine\nFOO=bar\nWEBHOOK_SECRET=stale\nexport REDIS_URL="redis://r:6379"\n');

  // Without the key from the log, no registration can start.
  const locked = await fetch(`${setup.url}/`);
  assert.equal(locked.status, 403);
  assert.doesNotMatch(await locked.text(), /name="manifest"/);

  const { action, state, manifest, res, html } = await landing(setup.setupUrl);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`form-action 'self' ${fake.url.replace(/\./g, '\\.')}`));
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.doesNotMatch(html, /<script/i);
  assert.equal(`${action.origin}${action.pathname}`, `${fake.url}/settings/apps/new`);
  assert.equal(manifest.name, appYml.name);
  assert.equal(manifest.public, appYml.public);
  assert.deepEqual(manifest.default_permissions, appYml.default_permissions);
  assert.deepEqual(manifest.default_events, appYml.default_events);
  assert.deepEqual(manifest.hook_attributes, { url: `${setup.url}/api/github/webhooks`, active: true });
  assert.equal(manifest.redirect_url, `${setup.url}/setup/done`);

  // GitHub sends the browser back with a code; a wrong state is refused before GitHub is asked.
  const app = fake.addManifestCode('c0de1', { manifest, slug: 'my-forge' });
  const forged = await fetch(`${setup.url}/setup/done?code=c0de1&state=not-the-state`);
  assert.equal(forged.status, 400);
  assert.match(await forged.text(), /Nothing was written/);
  assert.equal(readFileSync(envPath, 'utf8').includes('APP_ID'), false);
  assert.equal(
    fake.calls.filter((c) => c.operationId === 'apps/create-from-manifest').length,
    0,
    'GitHub was not asked',
  );

  const done = await fetch(`${setup.url}/setup/done?code=c0de1&state=${encodeURIComponent(state)}`);
  const page = await done.text();
  assert.equal(done.status, 200, page);
  assert.ok(page.includes(`${fake.url}/apps/my-forge/installations/new`), 'links to the install page');
  assert.match(page, /npm start/);
  const keyBody = app.pem.split('\n')[1] ?? '';
  assert.ok(!page.includes(keyBody) && !page.includes(app.webhookSecret ?? '-'), 'no secret on the page');

  const call = fake.calls.find((c) => c.operationId === 'apps/create-from-manifest');
  assert.equal(call?.auth, 'anonymous');
  assert.equal(call?.status, 201);

  assert.equal(statSync(envPath).mode & 0o777, 0o600);
  const text = readFileSync(envPath, 'utf8');
  assert.match(text, /^# mine\nFOO=bar\nWEBHOOK_SECRET="[0-9a-f]+"\nexport REDIS_URL="redis:\/\/r:6379"\n/);
  assert.match(
    text,
    /^PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\n[^\n]+-----END RSA PRIVATE KEY-----\\n"$/m,
  );
  const written = parseEnv(text);
  assert.equal(written.APP_ID, String(app.id));
  assert.equal(written.PRIVATE_KEY, app.pem);
  assert.equal(written.WEBHOOK_SECRET, app.webhookSecret);
  assert.equal(written.FORGE_GIT_AUTHOR_NAME, 'my-forge[bot]');
  assert.equal(written.FOO, 'bar');

  // What `npm start` will see: the values from .env, accepted by the config loader.
  const config = loadConfig({ ...written, FORGE_AGENT_COMMAND: 'true' });
  const credentials = requireGitHubApp(config);
  assert.deepEqual(credentials, { appId: app.id, privateKey: app.pem, webhookSecret: app.webhookSecret });
  assert.equal(config.gitAuthorName, 'my-forge[bot]');
  assert.doesNotThrow(() => createPrivateKey(credentials.privateKey));
  // The escaped form, as a shell `source` or docker's --env-file would pass it, works too.
  const raw = /^PRIVATE_KEY="(.*)"$/m.exec(text)?.[1] ?? '';
  assert.equal(
    requireGitHubApp(loadConfig({ ...written, PRIVATE_KEY: raw, FORGE_AGENT_COMMAND: 'true' })).privateKey,
    app.pem,
  );
  assert.equal(needsSetup(loadSetupConfig(written)), false, 'the next start is a normal one');

  const registered = await setup.registered;
  assert.deepEqual(
    { id: registered.id, slug: registered.slug, envPath: registered.envPath },
    { id: app.id, slug: 'my-forge', envPath },
  );
  // Once registered, no second App: the landing page says so, a second return is refused.
  const again = await fetch(setup.setupUrl);
  assert.doesNotMatch(await again.text(), /name="manifest"/);
  const replay = await fetch(`${setup.url}/setup/done?code=c0de1&state=${encodeURIComponent(state)}`);
  assert.equal(replay.status, 409);
  await replay.text();
});

test('an organization, a smee channel and FORGE_PUBLIC_URL shape the manifest', async () => {
  const { setup } = await startSetup({
    WEBHOOK_PROXY_URL: 'https://smee.io/abc123',
    FORGE_PUBLIC_URL: 'https://forge.example.com',
  });
  const { action, manifest } = await landing(`${setup.setupUrl}&org=acme-inc`);
  assert.equal(`${action.origin}${action.pathname}`, `${fake.url}/organizations/acme-inc/settings/apps/new`);
  assert.equal(manifest.hook_attributes.url, 'https://smee.io/abc123');
  assert.equal(manifest.redirect_url, 'https://forge.example.com/setup/done');

  const bad = await fetch(`${setup.setupUrl}&org=${encodeURIComponent('<x>')}`);
  assert.equal(bad.status, 400);
  assert.doesNotMatch(await bad.text(), /<x>/);
});

test('a code GitHub does not know: a clear page, nothing written, the state is spent', async () => {
  const { setup, envPath } = await startSetup();
  const { state } = await landing(setup.setupUrl);
  const res = await fetch(`${setup.url}/setup/done?code=nope&state=${encodeURIComponent(state)}`);
  const page = await res.text();
  assert.equal(res.status, 502);
  assert.match(page, /GitHub answered 404/);
  assert.match(page, /expire after an hour/);
  assert.equal(existsSync(envPath), false);
  const call = fake.calls.find((c) => c.path === '/app-manifests/nope/conversions');
  assert.equal(call?.status, 404);

  const reused = await fetch(`${setup.url}/setup/done?code=nope&state=${encodeURIComponent(state)}`);
  assert.equal(reused.status, 400);
  await reused.text();
});

test('updateEnvFile replaces keys in place, multi-line values included, and keeps the rest', () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-setup-'));
  const path = join(dir, '.env');
  writeFileSync(path, 'A=1\nPRIVATE_KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nB=2\nA=dup\n', {
    mode: 0o644,
  });
  updateEnvFile(path, { PRIVATE_KEY: 'x\ny', A: 'one', C: 'c[bot]' });
  assert.equal(readFileSync(path, 'utf8'), 'A="one"\nPRIVATE_KEY="x\\ny"\nB=2\nC="c[bot]"\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(
    { ...parseEnv(readFileSync(path, 'utf8')) },
    { A: 'one', PRIVATE_KEY: 'x\ny', B: '2', C: 'c[bot]' },
  );
  assert.throws(() => updateEnvFile(path, { D: 'has "quotes"' }), /cannot be written/);
});

/** `npm start` (src/main.ts) in a directory of its own. */
function startMain(cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), resolve('src/main.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((ok) => child.once('close', ok));
  return { child, exited, output: () => output };
}

test('npm start without an App serves setup; with a .env it reads it (the environment wins)', {
  timeout: 60_000,
}, async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-setup-'));
  const port = String(await freePort());
  const main = startMain(dir, { HOST: '127.0.0.1', PORT: port, GHE_HOST: fake.host, GHE_PROTOCOL: 'http' });
  try {
    const started = Date.now();
    let url: string | undefined;
    while (!url && Date.now() - started < 30_000) {
      url = /Open (http:\/\/\S+\?key=\S+) in a browser/.exec(main.output())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `the setup URL is logged:\n${main.output()}`);
    const { action } = await landing(url);
    assert.equal(`${action.origin}${action.pathname}`, `${fake.url}/settings/apps/new`);
  } finally {
    main.child.kill('SIGTERM');
    assert.equal(await main.exited, 0, main.output());
  }

  // With credentials in .env, Forge starts normally: here it stops at the next missing setting,
  // which shows .env was read; APP_ID from the environment beats the broken one in the file.
  writeFileSync(
    join(dir, '.env'),
    `APP_ID="not-a-number"\nPRIVATE_KEY="${fake.privateKeyPem.replace(/\n/g, '\\n')}"\nWEBHOOK_SECRET="s3cret-s3cret"\n`,
  );
  const configured = startMain(dir, { HOST: '127.0.0.1', PORT: port, APP_ID: '77' });
  assert.equal(await configured.exited, 78, configured.output());
  assert.match(configured.output(), /FORGE_AGENT_COMMAND: required/);
  assert.doesNotMatch(configured.output(), /APP_ID|setup URL|\?key=/);
});

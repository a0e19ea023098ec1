import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { updateEnvFile } from './env-file.js';
import { type AppYml, buildManifest, readAppYml } from './manifest.js';
import { donePage, errorPage, landingPage } from './pages.js';

/**
 * Setup mode: a small HTTP server that registers Forge's GitHub App from its manifest (GitHub's
 * "manifest flow", as Probot's setup does) and writes the App's credentials to `.env`.
 *
 *   GET /?key=…            explains, and posts the manifest to GitHub with a one-time `state`
 *   GET /setup/done?code=… GitHub sends the browser back; the code is exchanged for id, key, secret
 *
 * The server may be reachable by others (HOST defaults to 0.0.0.0) and whoever completes the flow
 * decides which App Forge runs as, so the landing page needs the access key from the setup URL in
 * Forge's log, and the return needs a `state` only that page hands out (single use, one hour).
 */

export interface SetupLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SetupServerOptions {
  host: string;
  port: number;
  /** The .env file to write (relative paths are resolved against the working directory now). */
  envPath: string;
  /** github.com or GitHub Enterprise Server: web root (forms) and API root (the conversion). */
  github: { web: string; api: string };
  /** `FORGE_PUBLIC_URL`: base of the webhook and redirect URLs; otherwise the URL the browser used. */
  publicUrl?: string;
  /** `WEBHOOK_PROXY_URL`: a smee.io channel GitHub delivers to instead. */
  webhookProxyUrl?: string;
  /** The App definition; `app.yml` by default. */
  app?: AppYml;
  /** Key the landing page requires (`?key=`); random by default. */
  accessKey?: string;
  /** The environment Forge will start with: its variables win over .env, so setup warns about them. */
  env?: Record<string, string | undefined>;
  log?: SetupLog;
  fetch?: typeof fetch;
}

export interface RegisteredApp {
  id: number;
  slug?: string;
  name: string;
  htmlUrl: string;
  /** The absolute path of the .env file written. */
  envPath: string;
  /** Keys written to it. */
  written: string[];
}

export interface RunningSetup {
  /** Base URL the server listens on. */
  url: string;
  /** The landing page with its access key: the URL to open in a browser. */
  setupUrl: string;
  /** Resolves when an App has been registered and its credentials written. */
  registered: Promise<RegisteredApp>;
  close(): Promise<void>;
}

/** What `POST /app-manifests/{code}/conversions` returns, as far as Forge uses it. */
export const ManifestConversion = z.object({
  id: z.number().int().positive(),
  slug: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/)
    .optional(),
  name: z.string().min(1),
  html_url: z.url(),
  pem: z
    .string()
    .regex(/^-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[\s\S]+-----END [A-Z ]*PRIVATE KEY-----\s*$/, {
      message: 'expected a PEM private key',
    }),
  webhook_secret: z.string().min(1).nullable(),
});
export type ManifestConversion = z.output<typeof ManifestConversion>;

const STATE_TTL_MS = 3_600_000;
const MAX_STATES = 100;
const CSP = (formTarget: string) =>
  `default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ${formTarget}`;

export async function startSetupServer(options: SetupServerOptions): Promise<RunningSetup> {
  const app = options.app ?? readAppYml();
  const envPath = resolve(options.envPath);
  const accessKey = options.accessKey ?? randomBytes(18).toString('base64url');
  const doFetch = options.fetch ?? fetch;
  const log = options.log;
  const github = { web: options.github.web.replace(/\/$/, ''), api: options.github.api.replace(/\/$/, '') };
  const states = new Map<string, { org?: string; expires: number }>();
  let done: RegisteredApp | undefined;
  let announce!: (app: RegisteredApp) => void;
  const registered = new Promise<RegisteredApp>((r) => {
    announce = r;
  });

  const send = (res: ServerResponse, status: number, html: string) => {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP(new URL(github.web).origin),
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    res.end(html);
  };

  /** Keys in the environment that would hide what setup writes to .env. */
  const shadowed = (keys: string[]) =>
    keys
      .filter((k) => options.env?.[k] !== undefined && options.env[k] !== '')
      .map(
        (k) =>
          `${k} is set in Forge's environment, and the environment wins over ${envPath}: unset it before you restart Forge, or it replaces the value written here.`,
      );

  const baseUrl = (req: IncomingMessage, listening: string): string => {
    if (options.publicUrl) return options.publicUrl.replace(/\/$/, '');
    const host = req.headers.host;
    if (host && /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)) {
      return `${req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'}://${host}`;
    }
    return listening;
  };

  const landing = (req: IncomingMessage, res: ServerResponse, url: URL, listening: string) => {
    if (url.searchParams.get('key') !== accessKey) {
      return send(
        res,
        403,
        errorPage(
          'Set up Forge',
          'This page needs the setup URL with its key.',
          'Open the setup URL that Forge printed in its log when it started (it ends in ?key=…). The key keeps others who can reach this server from registering an App for your Forge.',
        ),
      );
    }
    if (done) {
      return send(
        res,
        200,
        donePage({
          ...done,
          warnings: shadowed(['WEBHOOK_SECRET', 'FORGE_GIT_AUTHOR_NAME']),
        }),
      );
    }
    const org = url.searchParams.get('org') || undefined;
    if (org !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org)) {
      return send(
        res,
        400,
        errorPage('Set up Forge', `"${org}" is not an organization login.`, 'Go back and check the name.'),
      );
    }
    const now = Date.now();
    for (const [s, v] of states) if (v.expires < now || states.size >= MAX_STATES) states.delete(s);
    const state = randomBytes(18).toString('base64url');
    states.set(state, { ...(org ? { org } : {}), expires: now + STATE_TTL_MS });

    const base = baseUrl(req, listening);
    const webhookUrl = options.webhookProxyUrl ?? `${base}/api/github/webhooks`;
    const manifest = buildManifest(app, { webhookUrl, redirectUrl: `${base}/setup/done` });
    const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : '/settings/apps/new';
    const action = `${github.web}${path}?state=${encodeURIComponent(state)}`;
    const warnings: string[] = [];
    if (!options.webhookProxyUrl && github.web === 'https://github.com' && isPrivateUrl(webhookUrl)) {
      warnings.push(
        `GitHub.com cannot reach ${webhookUrl}. For development, create a channel at https://smee.io/new and set WEBHOOK_PROXY_URL to it; in production set FORGE_PUBLIC_URL to Forge's public address. Then restart setup. (You can also change the webhook URL in the App's settings later.)`,
      );
    }
    warnings.push(...shadowed(['WEBHOOK_SECRET', 'FORGE_GIT_AUTHOR_NAME']));
    send(res, 200, landingPage({ manifest, action, ...(org ? { org } : {}), accessKey, envPath, warnings }));
  };

  const finish = async (res: ServerResponse, url: URL) => {
    const again = `Start again from the setup URL in Forge's log.`;
    if (done) {
      return send(
        res,
        409,
        errorPage(
          'Forge is already registered',
          'A GitHub App was registered from this setup already; nothing was changed.',
          'Restart Forge (npm start) to use it.',
        ),
      );
    }
    const state = url.searchParams.get('state') ?? '';
    const known = states.get(state);
    states.delete(state);
    if (!known || known.expires < Date.now()) {
      log?.warn({}, 'setup: a return from GitHub with an unknown or expired state was refused');
      return send(
        res,
        400,
        errorPage(
          'Setup link not recognised',
          'This return from GitHub does not match a setup started here (the state is unknown, used or older than an hour). Nothing was written.',
          `${again} If GitHub created an App anyway, delete it in GitHub's Developer settings or use its settings page to fill in APP_ID, PRIVATE_KEY and WEBHOOK_SECRET by hand.`,
        ),
      );
    }
    const code = url.searchParams.get('code') ?? '';
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(code)) {
      return send(
        res,
        400,
        errorPage(
          'No code from GitHub',
          'GitHub did not send a registration code back. Nothing was written.',
          again,
        ),
      );
    }

    let response: Response;
    try {
      response = await doFetch(`${github.api}/app-manifests/${encodeURIComponent(code)}/conversions`, {
        method: 'POST',
        headers: {
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'forge-setup',
        },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      return send(
        res,
        502,
        errorPage(
          'GitHub could not be reached',
          `The request to ${github.api} failed: ${(error as Error).message}. Nothing was written.`,
          again,
        ),
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const message = (body as { message?: unknown } | undefined)?.message;
      log?.warn({ status: response.status }, 'setup: GitHub refused the manifest code');
      return send(
        res,
        502,
        errorPage(
          'GitHub refused the registration code',
          `GitHub answered ${response.status}${typeof message === 'string' ? `: ${message}` : ''}. Nothing was written.`,
          `Codes work once and expire after an hour. ${again}`,
        ),
      );
    }
    const parsed = ManifestConversion.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return send(
        res,
        502,
        errorPage(
          'Unexpected answer from GitHub',
          `GitHub created the App, but its answer was not understood (${issue?.path.join('.') || 'body'}: ${issue?.message}). Nothing was written.`,
          "Open the App in GitHub's Developer settings, generate a private key and set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET by hand.",
        ),
      );
    }
    const conversion = parsed.data;
    const values: Record<string, string> = { APP_ID: String(conversion.id), PRIVATE_KEY: conversion.pem };
    if (conversion.webhook_secret) values.WEBHOOK_SECRET = conversion.webhook_secret;
    if (conversion.slug) values.FORGE_GIT_AUTHOR_NAME = `${conversion.slug}[bot]`;
    try {
      updateEnvFile(envPath, values);
    } catch (error) {
      return send(
        res,
        500,
        errorPage(
          `Could not write ${envPath}`,
          `GitHub created the App ${conversion.name} (id ${conversion.id}), but writing its credentials failed: ${(error as Error).message}.`,
          `Open ${conversion.html_url}, generate a new private key in the App's settings and set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET by hand.`,
        ),
      );
    }
    const written = Object.keys(values);
    done = {
      id: conversion.id,
      ...(conversion.slug ? { slug: conversion.slug } : {}),
      name: conversion.name,
      htmlUrl: conversion.html_url,
      envPath,
      written,
    };
    log?.info(
      { appId: conversion.id, slug: conversion.slug, envPath, written },
      `GitHub App registered; install it at ${conversion.html_url.replace(/\/$/, '')}/installations/new, then restart Forge (npm start)`,
    );
    const warnings = shadowed(['WEBHOOK_SECRET', 'FORGE_GIT_AUTHOR_NAME']);
    if (!conversion.webhook_secret) {
      warnings.push(
        "GitHub returned no webhook secret. Set one in the App's settings (Webhook secret) and put the same value in WEBHOOK_SECRET before you restart Forge.",
      );
    }
    send(
      res,
      200,
      donePage({ name: conversion.name, htmlUrl: conversion.html_url, envPath, written, warnings }),
    );
    announce(done);
  };

  let listening = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://setup.invalid');
    const route = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' });
        return void res.end('method not allowed\n');
      }
      if (url.pathname === '/') return landing(req, res, url, listening);
      if (url.pathname === '/setup/done') return finish(res, url);
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(`${JSON.stringify({ ok: true, setup: true })}\n`);
      }
      send(res, 404, errorPage('Not found', 'Forge is in setup mode.', 'Open the setup URL from the log.'));
    };
    route().catch((error: unknown) => {
      log?.warn({ err: error }, 'setup: request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => ok());
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  listening = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  return {
    url: listening,
    setupUrl: `${listening}/?key=${accessKey}`,
    registered,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeIdleConnections();
      }),
  };
}

/** Loopback, private-range and `.local` hosts: GitHub.com cannot deliver webhooks there. */
function isPrivateUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host === '::1' ||
    host === '0.0.0.0' ||
    /^(127|10)\./.test(host) ||
    /^192\.168\./.test(host) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(host) ||
    /^f[cd][0-9a-f]{2}:/i.test(host)
  );
}

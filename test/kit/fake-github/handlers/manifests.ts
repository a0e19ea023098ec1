import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { type Handler, HttpError } from '../context.js';
import { APP_EVENTS, APP_PERMISSIONS, nodeId, userShape } from '../shapes.js';
import type { State } from '../state.js';

/**
 * The GitHub App manifest flow: the user posts a manifest to `<web>/settings/apps/new`, creates the
 * App on GitHub's page, and GitHub sends the browser back with a one-time `code` (valid one hour).
 * The browser half cannot be faked over HTTP, so a test registers the code GitHub would hand out
 * (`fake.addManifestCode`); `POST /app-manifests/{code}/conversions` then exchanges it once.
 */

export interface ManifestCodeInput {
  /** The manifest the user submitted; name, url, description, events and permissions come from it. */
  manifest?: {
    name?: string;
    url?: string;
    description?: string;
    default_events?: string[];
    default_permissions?: Record<string, string>;
  };
  /** Defaults to the name, lower-cased with dashes (as GitHub derives it). */
  slug?: string;
  name?: string;
  /** The account that owns the new App. */
  owner?: string;
  /** GitHub returns `null` when the manifest set no secret; it generates one otherwise. */
  webhookSecret?: string | null;
}

/** What the conversion will return, for assertions. */
export interface ManifestApp {
  code: string;
  id: number;
  slug: string;
  name: string;
  owner: string;
  pem: string;
  webhookSecret: string | null;
  clientId: string;
  clientSecret: string;
  description: string | null;
  externalUrl?: string;
  permissions: Record<string, string>;
  events: string[];
  expiresAt: number;
}

const CODE_TTL_MS = 3_600_000;
const pending = new WeakMap<State, Map<string, ManifestApp>>();

export function registerManifestCode(state: State, code: string, input: ManifestCodeInput = {}): ManifestApp {
  const name = input.name ?? input.manifest?.name ?? 'Forge';
  const slug =
    input.slug ??
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  const id = state.id();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app: ManifestApp = {
    code,
    id,
    slug,
    name,
    owner: input.owner ?? 'forge-owner',
    pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    webhookSecret: input.webhookSecret === undefined ? randomBytes(20).toString('hex') : input.webhookSecret,
    clientId: `Iv23${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(20).toString('hex'),
    description: input.manifest?.description ?? null,
    ...(input.manifest?.url ? { externalUrl: input.manifest.url } : {}),
    permissions: { ...(input.manifest?.default_permissions ?? APP_PERMISSIONS) },
    events: [...(input.manifest?.default_events ?? APP_EVENTS)],
    expiresAt: Date.now() + CODE_TTL_MS,
  };
  const codes = pending.get(state) ?? new Map<string, ManifestApp>();
  pending.set(state, codes);
  codes.set(code, app);
  return app;
}

export const manifestHandlers: Record<string, Handler> = {
  'apps/create-from-manifest': (req, f) => {
    const codes = pending.get(f.state);
    const app = codes?.get(req.params.code ?? '');
    // Codes work once and expire after an hour; anything else is GitHub's plain 404.
    codes?.delete(req.params.code ?? '');
    if (!app || app.expiresAt < Date.now()) throw new HttpError(404, 'Not Found');
    const htmlUrl = `${f.shapes.web}/apps/${app.slug}`;
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      status: 201,
      body: {
        id: app.id,
        slug: app.slug,
        node_id: nodeId('Integration', app.id),
        client_id: app.clientId,
        owner: userShape(f.shapes, app.owner),
        name: app.name,
        description: app.description,
        external_url: app.externalUrl ?? htmlUrl,
        html_url: htmlUrl,
        created_at: at,
        updated_at: at,
        permissions: app.permissions,
        events: app.events,
        client_secret: app.clientSecret,
        webhook_secret: app.webhookSecret,
        pem: app.pem,
      },
    };
  },
};

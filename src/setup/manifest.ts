import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The GitHub App manifest (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest),
 * built from `app.yml` plus the URLs of this Forge.
 */

const permission = z.enum(['read', 'write', 'admin']);

/** The parts of `app.yml` the manifest uses; anything else in the file is ignored. */
export const AppYml = z.object({
  name: z.string().min(1).max(34),
  description: z.string().optional(),
  url: z.url(),
  public: z.boolean().default(false),
  default_events: z.array(z.string().min(1)).default([]),
  default_permissions: z.record(z.string(), permission).default({}),
});
export type AppYml = z.output<typeof AppYml>;

export interface AppManifest {
  name: string;
  url: string;
  description?: string;
  public: boolean;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  setup_url?: string;
  default_events: string[];
  default_permissions: Record<string, string>;
}

/** `app.yml` next to Forge's package.json: found by walking up from this module (works from `src/` and `dist/`). */
export function defaultAppYmlPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'app.yml');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`app.yml not found in ${from} or any parent directory`);
    dir = parent;
  }
}

export function readAppYml(path: string = defaultAppYmlPath()): AppYml {
  const parsed = AppYml.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export interface ManifestUrls {
  /** Where GitHub delivers webhooks: `<base>/api/github/webhooks`, or the smee.io channel. */
  webhookUrl: string;
  /** Where GitHub sends the browser back with `?code=…&state=…`. */
  redirectUrl: string;
  /** Where GitHub sends the browser after an installation (optional). */
  setupUrl?: string;
}

export function buildManifest(app: AppYml, urls: ManifestUrls): AppManifest {
  return {
    name: app.name,
    url: app.url,
    ...(app.description ? { description: app.description } : {}),
    public: app.public,
    hook_attributes: { url: urls.webhookUrl, active: true },
    redirect_url: urls.redirectUrl,
    ...(urls.setupUrl ? { setup_url: urls.setupUrl } : {}),
    default_events: app.default_events,
    default_permissions: app.default_permissions,
  };
}

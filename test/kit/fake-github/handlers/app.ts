import { type Handler, HttpError, int, notFound, paginate, repoOf } from '../context.js';
import { APP_PERMISSIONS, appShape, installationShape, repoShape, tokenShape } from '../shapes.js';

/** The app itself and its installations (app JWT), plus the installation-token housekeeping calls. */

function installationIds(state: import('../state.js').State): number[] {
  return [...new Set([...state.repos.values()].map((r) => r.installationId))].sort((a, b) => a - b);
}

export const appHandlers: Record<string, Handler> = {
  'apps/get-authenticated': (_req, f) => ({ status: 200, body: appShape(f.shapes) }),

  'apps/list-installations': (req, f) => {
    const { page, headers } = paginate(
      installationIds(f.state).map((id) => installationShape(f.shapes, id)),
      req,
    );
    return { status: 200, body: page, headers };
  },

  'apps/get-installation': (req, f) => {
    const id = int(req.params.installation_id);
    if (!installationIds(f.state).includes(id)) throw notFound();
    return { status: 200, body: installationShape(f.shapes, id) };
  },

  'apps/get-repo-installation': (req, f) => ({
    status: 200,
    body: installationShape(f.shapes, repoOf(req).installationId),
  }),

  'apps/create-installation-access-token': (req, f) => {
    const id = int(req.params.installation_id);
    if (!installationIds(f.state).includes(id)) throw notFound();
    const owned = [...f.state.repos.values()].filter((r) => r.installationId === id);
    let repositories: string[] | undefined;
    const names = req.body.repositories as string[] | undefined;
    const ids = req.body.repository_ids as number[] | undefined;
    if (names || ids) {
      const picked = owned.filter((r) => names?.includes(r.name) || ids?.includes(r.id));
      if (picked.length !== (names?.length ?? 0) + (ids?.length ?? 0)) {
        throw new HttpError(
          422,
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        );
      }
      repositories = picked.map((r) => r.fullName.toLowerCase());
    }
    const installed = f.state.grantedPermissions.get(id) ?? APP_PERMISSIONS;
    const asked = (req.body.permissions as Record<string, string> | undefined) ?? installed;
    for (const [k, v] of Object.entries(asked)) {
      const granted = installed[k];
      if (!granted || (v === 'write' && granted !== 'write')) {
        throw new HttpError(
          422,
          `The permissions requested are not granted to this installation. (${k}:${v})`,
        );
      }
    }
    const issued = f.tokens.issue(id, asked, repositories);
    return { status: 201, body: tokenShape(issued) };
  },

  'apps/list-repos-accessible-to-installation': (req, f) => {
    if (req.caller.kind !== 'installation') throw notFound();
    const token = req.caller.token;
    const repos = [...f.state.repos.values()].filter(
      (r) =>
        r.installationId === token.installationId &&
        (!token.repositories || token.repositories.includes(r.fullName.toLowerCase())),
    );
    const { page, headers } = paginate(repos, req);
    return {
      status: 200,
      body: {
        total_count: repos.length,
        repository_selection: 'selected',
        repositories: page.map((r) => repoShape(f.shapes, r)),
      },
      headers,
    };
  },

  'apps/revoke-installation-access-token': (req, f) => {
    if (req.caller.kind === 'installation') f.tokens.revoke(req.caller.token.token);
    return { status: 204 };
  },
};

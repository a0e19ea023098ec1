import { createHash } from 'node:crypto';
import { type Handler, HttpError, notFound, repoOf } from '../context.js';
import { nodeId, repoShape, type ShapeContext, userShape } from '../shapes.js';
import type { RepoState, Role } from '../state.js';

/** Repository metadata, collaborator permission, branches and refs. */

/** GitHub's legacy `permission` field only knows admin/write/read/none; `role_name` carries the rest. */
const BASE_PERMISSION: Record<Role, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};
const RANK: Role[] = ['none', 'read', 'triage', 'write', 'maintain', 'admin'];

function commitShape(ctx: ShapeContext, repo: RepoState, sha: string) {
  const u = `${ctx.api}/repos/${repo.fullName}/commits/${sha}`;
  const person = { name: 'Fake Committer', email: 'committer@example.com', date: repo.createdAt };
  return {
    sha,
    node_id: nodeId('Commit', Number.parseInt(sha.slice(0, 8), 16)),
    url: u,
    html_url: `${ctx.web}/${repo.fullName}/commit/${sha}`,
    comments_url: `${u}/comments`,
    commit: {
      url: `${ctx.api}/repos/${repo.fullName}/git/commits/${sha}`,
      author: person,
      committer: person,
      message: 'fake commit',
      comment_count: 0,
      tree: { sha, url: `${ctx.api}/repos/${repo.fullName}/git/trees/${sha}` },
    },
    author: null,
    committer: null,
    parents: [],
  };
}

export const repoHandlers: Record<string, Handler> = {
  'repos/get': (req, f) => ({ status: 200, body: repoShape(f.shapes, repoOf(req)) }),

  'repos/get-collaborator-permission-level': (req, f) => {
    const repo = repoOf(req);
    const login = req.params.username ?? '';
    const role = repo.permissions.get(login.toLowerCase());
    // GitHub answers 404 for an account it does not know; tests model that as "never set".
    if (role === undefined) throw new HttpError(404, `${login} is not a user`);
    const rank = RANK.indexOf(role);
    return {
      status: 200,
      body: {
        permission: BASE_PERMISSION[role],
        role_name: role,
        user: {
          ...userShape(f.shapes, login),
          permissions: {
            pull: rank >= 1,
            triage: rank >= 2,
            push: rank >= 3,
            maintain: rank >= 4,
            admin: rank >= 5,
          },
          role_name: role,
        },
      },
    };
  },

  'repos/get-branch': async (req, f) => {
    const repo = repoOf(req);
    const branch = req.params.branch ?? '';
    const sha = await f.branchSha(repo, branch);
    if (!sha) throw new HttpError(404, 'Branch not found');
    const u = `${f.shapes.api}/repos/${repo.fullName}/branches/${encodeURIComponent(branch)}`;
    return {
      status: 200,
      body: {
        name: branch,
        commit: commitShape(f.shapes, repo, sha),
        _links: { self: u, html: `${f.shapes.web}/${repo.fullName}/tree/${branch}` },
        protected: false,
        protection: {
          enabled: false,
          required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] },
        },
        protection_url: `${u}/protection`,
      },
    };
  },

  'git/get-ref': async (req, f) => {
    const repo = repoOf(req);
    const ref = req.params.ref ?? '';
    // Only branches are modelled; tags and other refs are 404 like a ref that does not exist.
    const m = /^heads\/(.+)$/.exec(ref);
    const sha = m ? await f.branchSha(repo, m[1] as string) : undefined;
    if (!sha) throw notFound();
    return {
      status: 200,
      body: {
        ref: `refs/${ref}`,
        node_id: nodeId('Ref', repo.id),
        url: `${f.shapes.api}/repos/${repo.fullName}/git/refs/${ref}`,
        object: { type: 'commit', sha, url: `${f.shapes.api}/repos/${repo.fullName}/git/commits/${sha}` },
      },
    };
  },

  /**
   * A file's content at `ref` (default: the default branch), read from the real git server through
   * the `fileAt` hook. Only files are modelled: a path that is no file there (or no hook) is a 404.
   */
  'repos/get-content': async (req, f) => {
    const repo = repoOf(req);
    const path = (req.params.path ?? '').replace(/^\/+|\/+$/g, '');
    const ref = req.query.get('ref') || repo.defaultBranch;
    const text = path && f.hooks.fileAt ? await f.hooks.fileAt(repo.fullName, ref, path) : undefined;
    if (text === undefined) throw notFound();
    const bytes = Buffer.from(text, 'utf8');
    const sha = createHash('sha1')
      .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
      .digest('hex');
    const self = `${f.shapes.api}/repos/${repo.fullName}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const git = `${f.shapes.api}/repos/${repo.fullName}/git/blobs/${sha}`;
    const html = `${f.shapes.web}/${repo.fullName}/blob/${ref}/${path}`;
    // GitHub wraps base64 content at 60 characters per line.
    const content = (bytes.toString('base64').match(/.{1,60}/g) ?? ['']).join('\n');
    return {
      status: 200,
      body: {
        type: 'file',
        encoding: 'base64',
        size: bytes.length,
        name: path.split('/').pop(),
        path,
        content: content ? `${content}\n` : '',
        sha,
        url: self,
        git_url: git,
        html_url: html,
        download_url: `${f.shapes.web}/${repo.fullName}/raw/${ref}/${path}`,
        _links: { self, git, html },
      },
    };
  },
};

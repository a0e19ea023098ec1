import type { EndpointDef } from './endpoints.js';
import type { ShapeContext } from './shapes.js';
import type { ProjectState, UserState } from './state.js';
import type { Attributes } from './validate.js';

/** What handlers receive and return; kept apart from the server so handlers stay plain functions. */

export type MaybePromise<T> = T | Promise<T>;

/** How the fake asks the real git server about a project's repository (`path` is `group/sub/project`). */
export interface FakeGitLabHooks {
  branchSha(path: string, branch: string): MaybePromise<string | undefined>;
  branchesContaining(path: string, sha: string): MaybePromise<string[]>;
  commitExists(path: string, sha: string): MaybePromise<boolean>;
  fileAt(path: string, ref: string, file: string): MaybePromise<string | undefined>;
  /**
   * A git smart-HTTP server holding the repositories (`<root>/group/sub/project.git`). The fake
   * serves git at `<url>/group/sub/project.git` from it, on the API's own origin, as GitLab does.
   */
  gitBackend?: string;
}

export interface HandlerRequest {
  def: EndpointDef;
  attrs: Attributes;
  caller: UserState;
  /** The project named by `:id`, already checked to exist and be visible to the caller. */
  project?: ProjectState;
  /** Caller's access level on `project` (direct or inherited). */
  level: number;
  url: URL;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  /** A plain-text body (raw files). */
  text?: string;
  headers?: Record<string, string>;
}

export interface FakeContext extends ShapeContext {
  hooks: FakeGitLabHooks;
}

export type Handler = (req: HandlerRequest, ctx: FakeContext) => MaybePromise<HandlerResult>;

/** An answer GitLab would give for this state. `message` is GitLab's `{"message": …}` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'object' && body && 'message' in body ? String(body.message) : String(body));
  }
}

export const notFound = (what = '') =>
  new HttpError(404, { message: `404 ${what ? `${what} ` : ''}Not Found` });
export const forbidden = () => new HttpError(403, { message: '403 Forbidden' });

export function projectOf(req: HandlerRequest): ProjectState {
  if (!req.project) throw new Error(`${req.def.name} has no :id`);
  return req.project;
}

/** GitLab's role levels. */
export const GUEST = 10;
export const REPORTER = 20;
export const DEVELOPER = 30;

export function requireLevel(req: HandlerRequest, level: number): void {
  if (req.level < level) throw forbidden();
}

/** GitLab offset pagination: `page`, `per_page` (default 20, at most 100), X-* headers and `Link`. */
export function paginate<T>(items: T[], req: HandlerRequest): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(req.attrs.per_page ?? 20)));
  const page = Math.max(1, Number(req.attrs.page ?? 1));
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const at = (n: number) => {
    const u = new URL(req.url);
    u.searchParams.set('page', String(n));
    u.searchParams.set('per_page', String(perPage));
    return u.toString();
  };
  const links = [`<${at(1)}>; rel="first"`, `<${at(totalPages)}>; rel="last"`];
  if (page > 1) links.unshift(`<${at(page - 1)}>; rel="prev"`);
  if (page < totalPages) links.unshift(`<${at(page + 1)}>; rel="next"`);
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: {
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-total': String(items.length),
      'x-total-pages': String(totalPages),
      'x-next-page': page < totalPages ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(page - 1) : '',
      link: links.join(', '),
    },
  };
}

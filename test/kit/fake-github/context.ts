import type { Caller, TokenRegistry } from './auth.js';
import type { Operation } from './openapi.js';
import type { ShapeContext } from './shapes.js';
import { fakeSha, type IssueState, type RepoState, type State } from './state.js';

/** What handlers receive and return; kept apart from the server so handlers stay plain functions. */

export type MaybePromise<T> = T | Promise<T>;

export interface FakeGitHubHooks {
  /** Ask the real git server whether a branch exists (`repo` is `owner/name`). */
  branchExists?: (repo: string, branch: string) => MaybePromise<boolean>;
  /** Ask the real git server for a branch's head sha; `undefined` means no such branch. */
  headSha?: (repo: string, branch: string) => MaybePromise<string | undefined>;
  /** Ask the real git server for a file's text at `ref`; `undefined` means no such file there. */
  fileAt?: (repo: string, ref: string, path: string) => MaybePromise<string | undefined>;
}

export interface HandlerRequest {
  op: Operation;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  caller: Caller;
  /** The repository named by `{owner}/{repo}`, already checked to exist and be visible to the caller. */
  repo?: RepoState;
  /** Login the change is attributed to: the app's bot user for installation tokens. */
  actor: string;
  /** The request URL as the client addressed it (with `/api/v3` when used), for Link headers. */
  url: URL;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeContext {
  state: State;
  shapes: ShapeContext;
  hooks: FakeGitHubHooks;
  tokens: TokenRegistry;
  branchSha(repo: RepoState, branch: string): Promise<string | undefined>;
  pullHeadSha(issue: IssueState): Promise<string>;
}

export type Handler = (req: HandlerRequest, fake: FakeContext) => MaybePromise<HandlerResult>;

/** An error response GitHub would give for this state (not a protocol violation by the client). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}

export function notFound(): HttpError {
  return new HttpError(404, 'Not Found');
}

/** GitHub-style pagination: `per_page` (default 30, capped at 100), `page`, and a `Link` header. */
export function paginate<T>(
  items: T[],
  req: Pick<HandlerRequest, 'query' | 'url'>,
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(req.query.get('per_page') ?? 30)));
  const page = Math.max(1, Number(req.query.get('page') ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const at = (n: number) => {
    const u = new URL(req.url);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(n));
    return u.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`);
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length ? { link: links.join(', ') } : {},
  };
}

/** Resolve a branch through the hooks, falling back to branches the test declared. */
export async function resolveBranch(
  hooks: FakeGitHubHooks,
  repo: RepoState,
  branch: string,
): Promise<string | undefined> {
  if (hooks.branchExists && !(await hooks.branchExists(repo.fullName, branch))) return undefined;
  if (hooks.headSha) {
    const sha = await hooks.headSha(repo.fullName, branch);
    if (sha || !hooks.branchExists) return sha;
  }
  const declared = repo.branches.get(branch);
  if (declared) return declared;
  if (hooks.branchExists || branch === repo.defaultBranch) return fakeSha(repo.fullName, branch);
  return undefined;
}

export function repoOf(req: HandlerRequest): RepoState {
  if (!req.repo) throw new Error(`${req.op.operationId} has no {owner}/{repo}`);
  return req.repo;
}

export function int(value: string | undefined): number {
  return Number(value);
}

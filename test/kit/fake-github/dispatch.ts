import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Caller, identify } from './auth.js';
import type { FakeContext, Handler, HandlerResult } from './context.js';
import { HttpError } from './context.js';
import { handleGraphql } from './graphql/endpoint.js';
import { appHandlers } from './handlers/app.js';
import { checkHandlers } from './handlers/checks.js';
import { issueHandlers } from './handlers/issues.js';
import { manifestHandlers } from './handlers/manifests.js';
import { pullHandlers } from './handlers/pulls.js';
import { reactionHandlers } from './handlers/reactions.js';
import { repoHandlers } from './handlers/repos.js';
import { teamHandlers } from './handlers/teams.js';
import { documentedMethods, matchOperation, type Operation } from './openapi.js';
import { checkRequest, INVALID_JSON } from './request-check.js';
import { checkRules, waived } from './rules.js';
import { checkSchema, format } from './schema-check.js';
import type { RepoState } from './state.js';

/** The request pipeline: match → authenticate → validate → authorize repo → handle → self-check. */

export interface RecordedCall {
  method: string;
  /** Concrete path without the `/api/v3` prefix or query string. */
  path: string;
  /** OpenAPI template, e.g. `/repos/{owner}/{repo}/issues/{issue_number}`; undefined if undocumented. */
  template?: string;
  operationId?: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  status: number;
  auth: Caller['kind'];
  at: number;
}

export interface Violation {
  method: string;
  path: string;
  operationId?: string;
  status: number;
  reason: string;
  at: number;
}

const HANDLERS: Record<string, Handler> = {
  ...appHandlers,
  ...repoHandlers,
  ...issueHandlers,
  ...reactionHandlers,
  ...pullHandlers,
  ...checkHandlers,
  ...manifestHandlers,
  ...teamHandlers,
};

/** Operations that take an app JWT rather than an installation token. */
function wantsAppJwt(op: Operation): boolean {
  return (
    op.template === '/app' ||
    op.template.startsWith('/app/') ||
    ['apps/get-repo-installation', 'apps/get-org-installation', 'apps/get-user-installation'].includes(
      op.operationId,
    )
  );
}

export interface DispatchInput {
  method: string;
  rawUrl: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export interface DispatchOptions {
  appId: number;
  publicKey: import('node:crypto').KeyObject;
  botLogin: string;
  validateResponses: boolean;
  allowOperations: Set<string>;
  baseUrl: () => string;
}

export class Dispatcher {
  readonly calls: RecordedCall[] = [];
  readonly violations: Violation[] = [];
  private readonly used = new Map<string, number>();

  constructor(
    private readonly fake: FakeContext,
    private readonly opts: DispatchOptions,
  ) {}

  async dispatch(input: DispatchInput): Promise<HandlerResult> {
    const url = new URL(input.rawUrl, this.opts.baseUrl());
    const prefixed = url.pathname === '/api/v3' || url.pathname.startsWith('/api/v3/');
    const path = (prefixed ? url.pathname.slice('/api/v3'.length) : url.pathname) || '/';
    const method = input.method.toUpperCase();
    const body = parseBody(input.rawBody);
    const caller = identify(
      header(input.headers.authorization),
      this.opts.appId,
      this.opts.publicKey,
      this.fake.tokens,
    );
    const call: RecordedCall = {
      method,
      path,
      params: {},
      query: Object.fromEntries(url.searchParams),
      body: body === INVALID_JSON ? input.rawBody : body,
      status: 0,
      auth: caller.kind,
      at: Date.now(),
    };
    this.calls.push(call);

    const violate = (status: number, reason: string): HandlerResult => {
      this.violations.push({ method, path, operationId: call.operationId, status, reason, at: Date.now() });
      return errorResult(status, `fake-github: ${reason}`);
    };
    const finish = (result: HandlerResult): HandlerResult => {
      call.status = result.status;
      return { ...result, headers: { ...this.standardHeaders(caller), ...result.headers } };
    };

    if (url.pathname === '/api/graphql' || url.pathname === '/graphql') {
      const outcome = await handleGraphql({ method, body, caller }, this.fake.shapes);
      call.template = '/graphql';
      call.operationId = outcome.operationName ? `graphql:${outcome.operationName}` : 'graphql';
      for (const problem of outcome.problems) {
        const reason = `graphql: ${problem}`;
        this.violations.push({
          method,
          path,
          operationId: call.operationId,
          status: outcome.status,
          reason,
          at: Date.now(),
        });
      }
      return finish({
        status: outcome.status,
        body: outcome.body,
        headers: { 'x-ratelimit-resource': 'graphql' },
      });
    }

    const match = matchOperation(method, path);
    if (!match) {
      const others = documentedMethods(path);
      return finish(
        violate(
          404,
          others.length
            ? `undocumented: ${method} ${path} (documented methods: ${others.join(', ')})`
            : `undocumented: ${method} ${path}`,
        ),
      );
    }
    const { op, params } = match;
    Object.assign(call, { template: op.template, operationId: op.operationId, params });

    const authProblem = this.checkAuth(op, caller);
    if (authProblem) return finish(violate(authProblem.status, authProblem.reason));

    const checked = checkRequest(op, params, url.searchParams, body);
    const problems = [
      ...checked.problems.filter((p) => !waived(op.operationId, body, p)),
      ...checkRules(op.operationId, body, url.searchParams),
    ];
    if (problems.length) return finish(violate(checked.status, `${op.operationId}: ${problems.join('; ')}`));

    let repo: RepoState | undefined;
    if (params.owner !== undefined && params.repo !== undefined) {
      repo = this.fake.state.repo(`${params.owner}/${params.repo}`);
      if (!repo) return finish(errorResult(404, 'Not Found'));
      if (caller.kind === 'installation') {
        const t = caller.token;
        if (
          t.installationId !== repo.installationId ||
          (t.repositories && !t.repositories.includes(repo.fullName.toLowerCase()))
        ) {
          return finish(
            violate(
              404,
              `token of installation ${t.installationId} cannot access ${repo.fullName} (installation ${repo.installationId})`,
            ),
          );
        }
      }
    }

    const handler = HANDLERS[op.operationId];
    if (!handler) return finish(violate(404, `unimplemented: ${method} ${op.template} (${op.operationId})`));

    let result: HandlerResult;
    try {
      const clientUrl = new URL(url.toString());
      result = await handler(
        {
          op,
          params,
          query: url.searchParams,
          body: (body && typeof body === 'object' ? body : {}) as Record<string, unknown>,
          caller,
          repo,
          actor: this.opts.botLogin,
          url: clientUrl,
        },
        this.fake,
      );
    } catch (error) {
      if (error instanceof HttpError) return finish(errorResult(error.status, error.message, error.errors));
      return finish(
        violate(500, `fake crashed in ${op.operationId}: ${(error as Error).stack ?? String(error)}`),
      );
    }
    if (this.opts.validateResponses) this.checkResponse(op, result, method, path);
    return finish(result);
  }

  private checkAuth(op: Operation, caller: Caller): { status: number; reason: string } | undefined {
    if (op.template.startsWith('/app-manifests/')) return undefined;
    if (caller.kind === 'anonymous')
      return { status: 401, reason: `${op.operationId} requires authentication` };
    if (caller.kind === 'invalid') return { status: 401, reason: `Bad credentials: ${caller.reason}` };
    if (wantsAppJwt(op)) {
      return caller.kind === 'app'
        ? undefined
        : { status: 401, reason: `${op.operationId} requires an app JWT, got an installation token` };
    }
    if (caller.kind === 'app')
      return { status: 401, reason: `${op.operationId} requires an installation token, got an app JWT` };
    if (!op.enabledForGitHubApps && !this.opts.allowOperations.has(op.operationId)) {
      return {
        status: 403,
        reason: `${op.operationId} is not available to GitHub App installation tokens (x-github.enabledForGitHubApps: false): Resource not accessible by integration`,
      };
    }
    return undefined;
  }

  /** The fake's own responses must match the documented schema; a mismatch is a bug in the fake. */
  private checkResponse(op: Operation, result: HandlerResult, method: string, path: string): void {
    const doc = op.responses[String(result.status)] as
      | { content?: Record<string, { schema?: unknown }> }
      | undefined;
    if (!doc) {
      this.violations.push({
        method,
        path,
        operationId: op.operationId,
        status: result.status,
        reason: `fake bug: status ${result.status} is not documented for ${op.operationId}`,
        at: Date.now(),
      });
      return;
    }
    const schema = doc.content?.['application/json']?.schema;
    if (!schema || result.body === undefined) return;
    const errors = checkSchema(schema, result.body, 'response');
    if (errors.length) {
      const reason = `fake bug: ${op.operationId} response does not match its schema: ${errors.slice(0, 10).map(format).join('; ')}`;
      this.violations.push({
        method,
        path,
        operationId: op.operationId,
        status: result.status,
        reason,
        at: Date.now(),
      });
    }
  }

  private standardHeaders(caller: Caller): Record<string, string> {
    const key = caller.kind === 'installation' ? caller.token.token : caller.kind;
    const used = (this.used.get(key) ?? 0) + 1;
    this.used.set(key, used);
    const limit = caller.kind === 'installation' ? 5000 : 60;
    return {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - used)),
      'x-ratelimit-used': String(used),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': randomUUID().toUpperCase(),
    };
  }
}

function errorResult(status: number, message: string, errors?: unknown[]): HandlerResult {
  return {
    status,
    body: {
      message,
      documentation_url: 'https://docs.github.com/rest',
      status: String(status),
      ...(errors ? { errors } : {}),
    },
  };
}

function parseBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return INVALID_JSON;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

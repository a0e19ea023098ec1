import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FakeContext,
  type FakeGitLabHooks,
  type Handler,
  type HandlerResult,
  HttpError,
} from './context.js';
import { FakeGitLabSeeds } from './fake-seeds.js';
import { noteHandlers } from './handlers-notes.js';
import { peopleHandlers } from './handlers-people.js';
import { repoHandlers } from './handlers-repo.js';
import { type ProjectState, State } from './state.js';
import { checkAttributes, matchEndpoint } from './validate.js';

export interface RecordedCall {
  method: string;
  /** Path after `/api/v4`, as sent (project paths stay URL-encoded). */
  path: string;
  endpoint?: string;
  attrs: Record<string, unknown>;
  status: number;
  userId?: number;
  at: number;
}

export interface Violation {
  method: string;
  path: string;
  endpoint?: string;
  status: number;
  reason: string;
}

const HANDLERS: Record<string, Handler> = { ...peopleHandlers, ...noteHandlers, ...repoHandlers };

/**
 * A strict fake of GitLab's REST API (v4) for the endpoints Forge uses, built from GitLab's API
 * documentation (endpoints.ts). Requests outside the table, or with undocumented, missing or
 * mistyped attributes, are answered as GitLab would (404 / 400) and recorded in `violations`; so
 * is any 400 (GitLab refusing what Forge asked). Tests call `assertNoViolations()` after each test.
 * Undocumented attributes get a 400 here where GitLab would silently ignore them: an attribute
 * GitLab ignores is a bug in Forge either way.
 */
export class FakeGitLab extends FakeGitLabSeeds {
  readonly calls: RecordedCall[] = [];
  readonly violations: Violation[] = [];
  private server?: Server;
  private base = 'http://127.0.0.1:0';
  private readonly context: FakeContext;

  private constructor(hooks: FakeGitLabHooks) {
    const state = new State();
    super(state);
    const self = this;
    this.context = {
      state,
      hooks,
      get web() {
        return self.base;
      },
    };
  }

  static async start(hooks: FakeGitLabHooks): Promise<FakeGitLab> {
    const fake = new FakeGitLab(hooks);
    const server = createServer((req, res) => {
      if (hooks.gitBackend && GIT_SMART_HTTP.test(new URL(req.url ?? '/', 'http://x').pathname)) {
        proxyGit(req, res, hooks.gitBackend);
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        fake
          .dispatch(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'))
          .then((result) => {
            const headers = { ...result.headers };
            if (result.text !== undefined) {
              res.writeHead(result.status, headers);
              res.end(result.text);
              return;
            }
            res.writeHead(result.status, { 'content-type': 'application/json', ...headers });
            res.end(result.body === undefined ? undefined : JSON.stringify(result.body));
          })
          .catch((error: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(error));
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.server = server;
    fake.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The instance URL (GITLAB_URL); the API is under `/api/v4`. */
  get url(): string {
    return this.base;
  }

  get web(): string {
    return this.base;
  }

  /** The project's HTTPS clone URL (`git_http_url`): on the instance's origin, like the API. */
  cloneUrl(path: string): string {
    if (!this.context.hooks.gitBackend) throw new Error('the fake GitLab was started without a git backend');
    return `${this.base}/${path}.git`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A new personal (or access) token acting as `username`. */
  issueToken(username: string): string {
    const user = this.state.userByName(username);
    if (!user) throw new Error(`no user ${username}`);
    const token = `glpat-${randomBytes(10).toString('hex')}`;
    this.state.tokens.set(token, user.id);
    return token;
  }

  /** For a git server: may this token's user fetch and push `group/sub/project(.git)`? (Developer+) */
  tokenAllows(token: string, repoPath: string): boolean {
    const userId = this.state.tokens.get(token);
    const project = this.state.project(repoPath.replace(/\.git$/, ''));
    return userId !== undefined && project !== undefined && this.state.accessLevel(project, userId) >= 30;
  }

  writes(): RecordedCall[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }

  /** Return the violations so far and forget them (for tests that provoke them on purpose). */
  takeViolations(): Violation[] {
    return this.violations.splice(0);
  }

  assertNoViolations(): void {
    const v = this.takeViolations();
    if (v.length === 0) return;
    const lines = v.map((x, i) => `  ${i + 1}. ${x.method} ${x.path} → ${x.status}: ${x.reason}`);
    throw new Error(`fake GitLab saw ${v.length} violation(s):\n${lines.join('\n')}`);
  }

  private async dispatch(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    rawBody: string,
  ): Promise<HandlerResult> {
    const url = new URL(rawUrl, this.base);
    const raw = url.pathname;
    const path = raw.startsWith('/api/v4/') ? raw.slice('/api/v4'.length) : raw;
    const call: RecordedCall = { method, path, attrs: {}, status: 0, at: Date.now() };
    this.calls.push(call);
    const finish = (result: HandlerResult) => {
      call.status = result.status;
      return result;
    };
    const violate = (status: number, reason: string, body: unknown) => {
      this.violations.push({
        method,
        path,
        ...(call.endpoint ? { endpoint: call.endpoint } : {}),
        status,
        reason,
      });
      return finish({ status, body });
    };

    if (!raw.startsWith('/api/v4/'))
      return violate(404, `not under /api/v4: ${raw}`, { message: '404 Not Found' });
    const match = matchEndpoint(method, path);
    if (!match) return violate(404, `undocumented: ${method} ${path}`, { error: '404 Not Found' });
    if ('methods' in match)
      return violate(405, `${method} ${path}: the documented methods are ${match.methods.join(', ')}`, {
        error: '405 Not Allowed',
      });
    call.endpoint = match.def.name;

    const token =
      headerOf(headers, 'private-token') ?? headerOf(headers, 'authorization')?.replace(/^Bearer /i, '');
    const userId = token ? this.state.tokens.get(token) : undefined;
    const caller = userId !== undefined ? this.state.users.get(userId) : undefined;
    if (!caller) return violate(401, token ? 'unknown token' : 'no token', { message: '401 Unauthorized' });
    call.userId = caller.id;

    let body: unknown;
    if (rawBody.trim() !== '') {
      const type = headerOf(headers, 'content-type') ?? '';
      if (!type.startsWith('application/json'))
        return violate(400, `body sent as "${type}", not JSON`, { error: 'body is not JSON' });
      try {
        body = JSON.parse(rawBody);
      } catch {
        return violate(400, 'the body is not valid JSON', { error: 'body is not valid JSON' });
      }
    }
    const { attrs, problems } = checkAttributes(match.def, match.path, url.searchParams, body);
    call.attrs = attrs;
    if (problems.length)
      return violate(400, `${match.def.name} (${match.def.doc}): ${problems.join('; ')}`, {
        error: problems[0],
      });

    let project: ProjectState | undefined;
    let level = 0;
    if (typeof attrs.id === 'string' && match.def.path.startsWith('/projects/')) {
      project = this.state.project(attrs.id);
      level = project ? this.state.accessLevel(project, caller.id) : 0;
      // A private project is invisible to non-members.
      if (!project || level === 0) return finish({ status: 404, body: { message: '404 Project Not Found' } });
    }
    const handler = HANDLERS[match.def.name];
    if (!handler) return violate(404, `unimplemented: ${match.def.name}`, { message: '404 Not Found' });
    try {
      const result = await handler(
        { def: match.def, attrs, caller, ...(project ? { project } : {}), level, url },
        this.context,
      );
      return finish(result);
    } catch (error) {
      if (error instanceof HttpError) {
        // GitLab refusing a request as invalid (400) means Forge asked for something it should not.
        if (error.status === 400) return violate(400, `${match.def.name}: ${error.message}`, error.body);
        return finish({ status: error.status, body: error.body });
      }
      return violate(500, `fake crashed in ${match.def.name}: ${(error as Error).stack ?? String(error)}`, {
        message: '500 Internal Server Error',
      });
    }
  }
}

/** Git's smart-HTTP requests for `/group/sub/project.git` (anything else is an API request). */
const GIT_SMART_HTTP = /^\/(?!api\/).+\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

/** Passes a git request through to the git server as is (credentials included), streaming both ways. */
function proxyGit(req: IncomingMessage, res: ServerResponse, backend: string): void {
  const target = new URL(req.url ?? '/', backend);
  const upstream = request(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host }, agent: false },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(error));
  });
  req.pipe(upstream);
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

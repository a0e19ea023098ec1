import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appKeys, type IssuedToken, TokenRegistry } from './auth.js';
import { type FakeContext, type FakeGitHubHooks, resolveBranch } from './context.js';
import { Dispatcher, type RecordedCall, type Violation } from './dispatch.js';
import { FakeGitHubTeamState } from './fake-state-teams.js';
import { type ManifestApp, type ManifestCodeInput, registerManifestCode } from './handlers/manifests.js';
import { warmUp } from './openapi.js';
import { fakeSha, type RepoState, State } from './state.js';

export interface FakeGitHubOptions extends FakeGitHubHooks {
  appId?: number;
  /** The bot acting for installation tokens is `${appSlug}[bot]`. */
  appSlug?: string;
  appName?: string;
  /** Lifetime of installation tokens (GitHub: one hour). */
  tokenTtlMs?: number;
  onTokenIssued?: (token: IssuedToken) => void;
  /** Check the fake's own responses against the schema (default true; a mismatch is a violation). */
  validateResponses?: boolean;
  /** operationIds to accept from installation tokens even though the spec says apps cannot call them. */
  allowOperations?: string[];
}

/**
 * A strict fake of GitHub's REST API for one GitHub App. Every request is checked against GitHub's
 * OpenAPI description; anything GitHub would reject, or that the fake does not implement, is answered
 * with an error and recorded in `violations` (tests call `assertNoViolations()` in afterEach).
 */
export class FakeGitHub extends FakeGitHubTeamState {
  readonly appId: number;
  readonly privateKeyPem: string;
  readonly appSlug: string;
  /** Mutable so a git server started after the fake can be wired in. */
  readonly hooks: FakeGitHubHooks;
  private readonly tokens: TokenRegistry;
  private readonly dispatcher: Dispatcher;
  private server?: Server;
  private base = 'http://127.0.0.1:0';

  private constructor(options: FakeGitHubOptions) {
    super(new State());
    const keys = appKeys();
    this.appId = options.appId ?? 4242;
    this.appSlug = options.appSlug ?? 'forge-test';
    this.privateKeyPem = keys.privateKeyPem;
    this.hooks = { branchExists: options.branchExists, headSha: options.headSha, fileAt: options.fileAt };
    this.tokens = new TokenRegistry(options.tokenTtlMs ?? 3_600_000);
    if (options.onTokenIssued) this.tokens.onIssued(options.onTokenIssued);
    const hooks = this.hooks;
    const state = this.state;
    const self = this;
    const shapes = {
      state,
      get api() {
        return `${self.base}/api/v3`;
      },
      get web() {
        return self.base;
      },
      app: {
        id: this.appId,
        slug: this.appSlug,
        name: options.appName ?? 'Forge (test)',
        ownerLogin: 'forge-owner',
      },
    };
    const context: FakeContext = {
      state,
      shapes,
      hooks,
      tokens: this.tokens,
      branchSha: (repo, branch) => resolveBranch(hooks, repo, branch),
      pullHeadSha: async (issue) => {
        const pull = issue.pull;
        if (!pull) throw new Error('not a pull request');
        if (pull.headSha) return pull.headSha;
        const headRepo =
          state.repo(pull.headRepo) ??
          ({ ...(state.repo(issue.repo) as RepoState), fullName: pull.headRepo } as RepoState);
        return (await resolveBranch(hooks, headRepo, pull.head)) ?? fakeSha(pull.headRepo, pull.head);
      },
    };
    this.dispatcher = new Dispatcher(context, {
      appId: this.appId,
      publicKey: keys.publicKey,
      botLogin: `${this.appSlug}[bot]`,
      validateResponses: options.validateResponses ?? true,
      allowOperations: new Set(options.allowOperations ?? []),
      baseUrl: () => this.base,
    });
  }

  /** Start on a free loopback port. The OpenAPI route table is compiled once per process (~0.3 s). */
  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    warmUp();
    const fake = new FakeGitHub(options);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        fake.dispatcher
          .dispatch({
            method: req.method ?? 'GET',
            rawUrl: req.url ?? '/',
            headers: req.headers,
            rawBody: Buffer.concat(chunks).toString('utf8'),
          })
          .then((result) => {
            res.writeHead(result.status, result.headers);
            res.end(
              result.body === undefined || result.status === 204 ? undefined : JSON.stringify(result.body),
            );
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

  /** `http://127.0.0.1:PORT` — the API is served here and under `/api/v3`. */
  get url(): string {
    return this.base;
  }

  /** Where Octokit points when Forge runs with `GHE_HOST=127.0.0.1:PORT GHE_PROTOCOL=http`. */
  get apiUrl(): string {
    return `${this.base}/api/v3`;
  }

  /** `host:port`, for `GHE_HOST`. */
  get host(): string {
    return new URL(this.base).host;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- app registration ------------------------------------------------------------------------

  /**
   * The manifest flow's browser half: as if the user had created an App from `input.manifest` on
   * GitHub's page and GitHub redirected back with `?code=`. `POST /app-manifests/{code}/conversions`
   * then exchanges the code once for the returned App (a fresh RSA key and webhook secret).
   */
  addManifestCode(code: string, input: ManifestCodeInput = {}): ManifestApp {
    return registerManifestCode(this.state, code, input);
  }

  // ---- tokens --------------------------------------------------------------------------------

  /** Every installation token ever issued (tests scan logs, containers and commits for them). */
  issuedTokens(): IssuedToken[] {
    return this.tokens.all();
  }

  /** Subscribe to new installation tokens; returns an unsubscribe function. */
  onTokenIssued(listener: (token: IssuedToken) => void): () => void {
    return this.tokens.onIssued(listener);
  }

  /** For a git server: is this a live installation token that may access `owner/name`? */
  tokenAllows(token: string, repo: string): boolean {
    const t = this.tokens.lookup(token);
    const r = this.state.repo(repo);
    return Boolean(
      t &&
        r &&
        t.installationId === r.installationId &&
        (!t.repositories || t.repositories.includes(r.fullName.toLowerCase())),
    );
  }

  // ---- inspection ----------------------------------------------------------------------------

  get calls(): RecordedCall[] {
    return this.dispatcher.calls;
  }

  get violations(): Violation[] {
    return this.dispatcher.violations;
  }

  writes(): RecordedCall[] {
    return this.calls.filter((c) => c.method !== 'GET' && c.method !== 'HEAD');
  }

  /** Return the violations so far and forget them (for tests that provoke them on purpose). */
  takeViolations(): Violation[] {
    return this.dispatcher.violations.splice(0);
  }

  assertNoViolations(): void {
    const v = this.violations;
    if (v.length === 0) return;
    const lines = v.map((x, i) => `  ${i + 1}. ${x.method} ${x.path} → ${x.status}: ${x.reason}`);
    throw new Error(`fake GitHub saw ${v.length} violation(s):\n${lines.join('\n')}`);
  }
}

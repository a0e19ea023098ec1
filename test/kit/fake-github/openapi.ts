import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * GitHub's OpenAPI description, compiled once per process into a route table.
 *
 * We read the non-dereferenced `api.github.com.json` (13 MB, ~0.2 s to parse) rather than the
 * `.deref.json` variant (73 MB, >1 s and hundreds of MB of heap): `$ref`s are resolved lazily by
 * `resolve()` only for the schemas a request actually touches.
 */

export type Schema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  method: string;
  template: string;
  operationId: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }> } | Schema>;
  enabledForGitHubApps: boolean;
}

interface Route {
  op: Operation;
  regex: RegExp;
  paramNames: string[];
  /** Literal segment count: more literals = more specific (`/issues/comments` beats `/issues/{n}`). */
  literals: number;
}

interface Spec {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: Record<string, Record<string, unknown>>;
}

/** Path parameters that GitHub lets span several segments when they end the path (refs, file paths). */
const GREEDY_TAIL = new Set(['ref', 'path', 'branch']);
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head'];

let cache: { spec: Spec; routes: Map<string, Route[]>; templates: Map<string, Operation> } | undefined;

export function specPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('@octokit/openapi/generated/api.github.com.json');
}

function load() {
  if (cache) return cache;
  const spec = JSON.parse(readFileSync(specPath(), 'utf8')) as Spec;
  const routes = new Map<string, Route[]>();
  const templates = new Map<string, Operation>();
  for (const [template, item] of Object.entries(spec.paths)) {
    const shared = (item.parameters as unknown as Parameter[] | undefined) ?? [];
    for (const method of METHODS) {
      const raw = item[method];
      if (!raw) continue;
      const op: Operation = {
        method: method.toUpperCase(),
        template,
        operationId: String(raw.operationId),
        parameters: [...shared, ...((raw.parameters as Parameter[] | undefined) ?? [])].map((p) =>
          resolveIn<Parameter>(spec, p),
        ),
        requestBody: raw.requestBody ? resolveIn<Operation['requestBody']>(spec, raw.requestBody) : undefined,
        responses: (raw.responses ?? {}) as Operation['responses'],
        enabledForGitHubApps:
          (raw['x-github'] as { enabledForGitHubApps?: boolean } | undefined)?.enabledForGitHubApps !== false,
      };
      const list = routes.get(op.method) ?? [];
      list.push(compile(op));
      routes.set(op.method, list);
      templates.set(`${op.method} ${template}`, op);
    }
  }
  for (const list of routes.values()) list.sort((a, b) => b.literals - a.literals);
  cache = { spec, routes, templates };
  return cache;
}

function compile(op: Operation): Route {
  const segments = op.template.split('/').slice(1);
  const paramNames: string[] = [];
  let literals = 0;
  const parts = segments.map((segment, i) => {
    const m = /^\{([^}]+)\}$/.exec(segment);
    if (!m) {
      literals++;
      // Only `/compare/{base}...{head}` mixes literals and parameters in one segment.
      return segment
        .split(/(\{[^}]+\})/)
        .map((piece) => {
          const p = /^\{([^}]+)\}$/.exec(piece);
          if (!p) return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          paramNames.push(p[1] as string);
          return '(.+?)';
        })
        .join('');
    }
    const name = m[1] as string;
    paramNames.push(name);
    return i === segments.length - 1 && GREEDY_TAIL.has(name) ? '(.+)' : '([^/]+)';
  });
  return { op, regex: new RegExp(`^/${parts.join('/')}/?$`), paramNames, literals };
}

/** Ensure the spec is parsed and compiled (call in a `before` hook to keep the first test fast). */
export function warmUp(): void {
  load();
}

export interface Match {
  op: Operation;
  params: Record<string, string>;
}

/** Find the documented operation for a concrete request path (already stripped of `/api/v3`). */
export function matchOperation(method: string, path: string): Match | undefined {
  const { routes } = load();
  for (const route of routes.get(method) ?? []) {
    const m = route.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, i) => {
      params[name] = safeDecode(m[i + 1] ?? '');
    });
    return { op: route.op, params };
  }
  return undefined;
}

/** Methods documented for a path under any method — to tell "wrong method" from "no such path". */
export function documentedMethods(path: string): string[] {
  const { routes } = load();
  return [...routes.entries()].filter(([, list]) => list.some((r) => r.regex.test(path))).map(([m]) => m);
}

export function operationByTemplate(method: string, template: string): Operation | undefined {
  return load().templates.get(`${method} ${template}`);
}

/** Follow `$ref` chains (`#/components/...`) until a concrete object. */
export function resolve<T = Schema>(value: unknown): T {
  return resolveIn(load().spec, value);
}

function resolveIn<T>(spec: Spec, start: unknown): T {
  let value = start as Record<string, unknown> | undefined;
  for (let hops = 0; value && typeof value.$ref === 'string' && hops < 20; hops++) {
    let target: unknown = spec;
    for (const key of value.$ref.replace(/^#\//, '').split('/')) {
      target = (target as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    value = target as Record<string, unknown>;
  }
  return value as T;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

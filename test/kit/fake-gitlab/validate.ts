import { ENDPOINTS, type EndpointDef, PAGINATION, type ParamDef } from './endpoints.js';

/** Matching requests to the documented endpoints, and checking their attributes like GitLab (Grape) does. */

interface Compiled {
  def: EndpointDef;
  regex: RegExp;
  names: string[];
}

const COMPILED: Compiled[] = ENDPOINTS.map((def) => {
  const names: string[] = [];
  const pattern = def.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      // One raw segment: a project path, branch or file path arrives with its `/` encoded as %2F.
      return '([^/]+)';
    })
    .join('/');
  return { def, regex: new RegExp(`^${pattern}$`), names };
});

export interface Match {
  def: EndpointDef;
  /** Path parameters, decoded. */
  path: Record<string, string>;
}

export function matchEndpoint(method: string, rawPath: string): Match | { methods: string[] } | undefined {
  const methods: string[] = [];
  for (const c of COMPILED) {
    const m = c.regex.exec(rawPath);
    if (!m) continue;
    if (c.def.method !== method) {
      methods.push(c.def.method);
      continue;
    }
    const path: Record<string, string> = {};
    c.names.forEach((name, i) => {
      path[name] = decodeURIComponent(m[i + 1]!);
    });
    return { def: c.def, path };
  }
  return methods.length ? { methods } : undefined;
}

export type Attributes = Record<string, unknown>;

/**
 * Merges the query string and the JSON body (GitLab reads attributes from either), checks every
 * attribute against the endpoint's documentation and returns the problems (empty when fine) with
 * the attributes coerced to their documented types.
 */
export function checkAttributes(
  def: EndpointDef,
  path: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): { attrs: Attributes; problems: string[] } {
  const problems: string[] = [];
  const given: Attributes = {};
  for (const key of new Set(query.keys())) {
    const all = query.getAll(key);
    // `iids[]=1&iids[]=2` is how arrays travel in a query string.
    if (key.endsWith('[]')) given[key.slice(0, -2)] = all;
    else given[key] = all.length > 1 ? all : all[0];
  }
  if (body !== undefined) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      problems.push('the request body must be a JSON object');
    } else {
      for (const [key, value] of Object.entries(body)) {
        if (key in given) problems.push(`${key} is given in both the query string and the body`);
        given[key] = value;
      }
    }
  }
  const allowed: Record<string, ParamDef> = { ...def.params, ...(def.paginated ? PAGINATION : {}) };
  const attrs: Attributes = {};
  for (const [name, value] of Object.entries(path)) {
    const param = allowed[name];
    if (!param) continue;
    const coerced = coerce(param, value);
    if (coerced.ok) attrs[name] = coerced.value;
    else problems.push(`${name} is invalid`);
  }
  for (const [name, value] of Object.entries(given)) {
    const param = allowed[name];
    if (!param || name in path) {
      problems.push(`${name} is not a documented attribute of ${def.method} ${def.path}`);
      continue;
    }
    const coerced = coerce(param, value);
    if (!coerced.ok) {
      problems.push(`${name} is invalid${coerced.why ? ` (${coerced.why})` : ''}`);
      continue;
    }
    attrs[name] = coerced.value;
  }
  for (const [name, param] of Object.entries(allowed)) {
    if (param.required && (attrs[name] === undefined || attrs[name] === ''))
      problems.push(`${name} is missing`);
  }
  return { attrs, problems };
}

type Coerced = { ok: true; value: unknown } | { ok: false; why?: string };

function coerce(param: ParamDef, value: unknown): Coerced {
  switch (param.type) {
    case 'integer':
      return integer(value);
    case 'float': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
    }
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' };
      return { ok: false, why: 'expected true or false' };
    case 'integer array': {
      const items = Array.isArray(value) ? value : [value];
      const out: number[] = [];
      for (const item of items) {
        const n = integer(item);
        if (!n.ok) return { ok: false, why: 'expected integers' };
        out.push(n.value as number);
      }
      return { ok: true, value: out };
    }
    case 'integer or string':
      if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value: String(value) };
      return typeof value === 'string' && value !== '' ? { ok: true, value } : { ok: false };
    case 'string': {
      if (typeof value !== 'string') return { ok: false, why: `expected a string, got ${typeof value}` };
      if (param.values && !param.values.includes(value))
        return { ok: false, why: `expected one of ${param.values.join(', ')}` };
      if (param.maxLength !== undefined && value.length > param.maxLength)
        return { ok: false, why: `at most ${param.maxLength} characters` };
      return { ok: true, value };
    }
  }
}

function integer(value: unknown): Coerced {
  if (typeof value === 'number') return Number.isInteger(value) ? { ok: true, value } : { ok: false };
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return { ok: true, value: Number(value) };
  return { ok: false, why: 'expected an integer' };
}

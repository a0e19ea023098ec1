import type { Operation, Schema } from './openapi.js';
import { resolve } from './openapi.js';
import { checkSchema, format, isOpenObject, knownProperties } from './schema-check.js';

/**
 * Checks one request against its documented operation. Returns human-readable problems and the
 * status GitHub would answer with (404 for a malformed path parameter, 422 for query/body).
 */
export interface RequestProblems {
  status: number;
  problems: string[];
}

export function checkRequest(
  op: Operation,
  params: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): RequestProblems {
  const pathProblems: string[] = [];
  const problems: string[] = [];

  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    const value = params[p.name];
    if (value === undefined || value === '') pathProblems.push(`path parameter ${p.name} is missing`);
    else pathProblems.push(...checkScalar(p.schema, value, `path parameter ${p.name}`));
  }

  const documented = new Map(op.parameters.filter((x) => x.in === 'query').map((x) => [x.name, x]));
  for (const [name, value] of query) {
    const p = documented.get(name);
    if (!p) {
      problems.push(
        `unknown query parameter ${name} (documented: ${[...documented.keys()].join(', ') || 'none'})`,
      );
      continue;
    }
    problems.push(...checkScalar(p.schema, value, `query parameter ${name}`));
  }
  for (const p of documented.values()) {
    if (p.required && !query.has(p.name)) problems.push(`query parameter ${p.name} is required`);
  }

  const schema = op.requestBody?.content?.['application/json']?.schema;
  if (body === INVALID_JSON) {
    problems.push('body is not valid JSON');
  } else if (body === undefined) {
    if (op.requestBody?.required) problems.push('a JSON body is required');
  } else if (!op.requestBody) {
    if (!(typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
      problems.push('a body was sent to an operation that takes none');
    }
  } else if (schema) {
    problems.push(...checkSchema(schema, body).map(format));
    if (body && typeof body === 'object' && !Array.isArray(body) && !isOpenObject(schema)) {
      // GitHub silently ignores unknown fields; a strict fake flags them because they are typos or
      // parameters meant for another endpoint, which would silently do nothing in production.
      const known = knownProperties(schema);
      for (const key of Object.keys(body))
        if (!known.has(key)) problems.push(`body.${key} is not a documented field`);
    }
  }

  if (pathProblems.length) return { status: 404, problems: [...pathProblems, ...problems] };
  return { status: 422, problems };
}

/** Marks a body that failed to parse, distinct from "no body". */
export const INVALID_JSON = Symbol('invalid-json');

function checkScalar(schemaOrRef: unknown, raw: string, label: string): string[] {
  const schema = resolve<Schema>(schemaOrRef ?? {}) ?? {};
  const type = schema.type;
  let value: unknown = raw;
  if (type === 'integer') {
    if (!/^-?\d+$/.test(raw)) return [`${label} must be an integer, got ${JSON.stringify(raw)}`];
    value = Number(raw);
  } else if (type === 'number') {
    if (Number.isNaN(Number(raw))) return [`${label} must be a number, got ${JSON.stringify(raw)}`];
    value = Number(raw);
  } else if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false')
      return [`${label} must be true or false, got ${JSON.stringify(raw)}`];
    value = raw === 'true';
  } else if (type === 'array') {
    return [];
  }
  return checkSchema(schema, value, label).map(format);
}

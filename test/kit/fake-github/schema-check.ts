import { resolve, type Schema } from './openapi.js';

/**
 * A small JSON Schema (OpenAPI 3.0 dialect) checker: type, nullable, enum, required, properties,
 * items, allOf/anyOf/oneOf, length and item limits. Enough to catch the mistakes a client makes
 * (missing field, wrong primitive type, value outside an enum) without a full validator dependency.
 * `format` is ignored: GitHub itself is lenient about it.
 */

export interface SchemaError {
  at: string;
  message: string;
}

export function checkSchema(schemaOrRef: unknown, value: unknown, at = 'body', depth = 0): SchemaError[] {
  const schema = resolve<Schema>(schemaOrRef);
  if (!schema || typeof schema !== 'object' || depth > 40) return [];
  const errors: SchemaError[] = [];

  if (value === null) {
    const types = ([] as unknown[]).concat(schema.type ?? []);
    if (
      schema.nullable === true ||
      types.includes('null') ||
      (schema.enum as unknown[] | undefined)?.includes(null)
    )
      return [];
    // Composite schemas may allow null in a branch.
    if (!schema.anyOf && !schema.oneOf && !schema.allOf && (types.length > 0 || schema.properties)) {
      return [{ at, message: 'must not be null' }];
    }
  }

  for (const sub of (schema.allOf as unknown[] | undefined) ?? [])
    errors.push(...checkSchema(sub, value, at, depth + 1));
  // oneOf is checked as anyOf: GitHub's branches often overlap, and GitHub accepts a body matching several.
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key] as unknown[] | undefined;
    if (!branches?.length) continue;
    const results = branches.map((b) => checkSchema(b, value, at, depth + 1));
    if (!results.some((r) => r.length === 0)) {
      const best = results.reduce((a, b) => (b.length < a.length ? b : a));
      errors.push({
        at,
        message: `matches none of the ${key} alternatives (closest: ${best.map(format).join('; ')})`,
      });
    }
  }
  if (value === null) return errors;

  const type = schema.type as string | string[] | undefined;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (!types.some((t) => isType(t, value))) {
      return [...errors, { at, message: `must be ${types.join(' or ')}, got ${describe(value)}` }];
    }
  }
  const allowed = schema.enum as unknown[] | undefined;
  if (allowed && !allowed.includes(value)) {
    errors.push({
      at,
      message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
    });
  }
  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) {
      errors.push({
        at,
        message: `is ${value.length} characters, longer than the maximum ${schema.maxLength}`,
      });
    }
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
      errors.push({ at, message: `is shorter than the minimum ${schema.minLength}` });
    }
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      errors.push({ at, message: `must be >= ${schema.minimum}` });
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      errors.push({ at, message: `must be <= ${schema.maximum}` });
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      errors.push({ at, message: `has ${value.length} items, more than the maximum ${schema.maxItems}` });
    }
    if (schema.items) {
      value.forEach((item, i) => {
        errors.push(...checkSchema(schema.items, item, `${at}[${i}]`, depth + 1));
      });
    }
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in obj) || obj[key] === undefined)
        errors.push({ at: `${at}.${key}`, message: 'is required' });
    }
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    for (const [key, sub] of Object.entries(props)) {
      if (obj[key] !== undefined) errors.push(...checkSchema(sub, obj[key], `${at}.${key}`, depth + 1));
    }
  }
  return errors;
}

/** Every property name the schema documents at its top level, through allOf/anyOf/oneOf. */
export function knownProperties(schemaOrRef: unknown, out = new Set<string>(), depth = 0): Set<string> {
  const schema = resolve<Schema>(schemaOrRef);
  if (!schema || depth > 10) return out;
  for (const key of Object.keys((schema.properties ?? {}) as object)) out.add(key);
  for (const k of ['allOf', 'anyOf', 'oneOf'])
    for (const sub of (schema[k] as unknown[] | undefined) ?? []) knownProperties(sub, out, depth + 1);
  return out;
}

/** True when the schema leaves room for undocumented properties (free-form objects). */
export function isOpenObject(schemaOrRef: unknown): boolean {
  const schema = resolve<Schema>(schemaOrRef);
  if (!schema) return true;
  if (
    schema.additionalProperties !== undefined &&
    schema.additionalProperties !== false &&
    !schema.properties
  )
    return true;
  return !schema.properties && !schema.allOf && !schema.anyOf && !schema.oneOf;
}

function isType(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'null':
      return value === null;
    default:
      return true;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

export function format(e: SchemaError): string {
  return `${e.at} ${e.message}`;
}

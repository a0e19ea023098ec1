/**
 * Small helpers for validating provider request bodies the way the real APIs do: every problem is
 * collected with its JSON path (`messages.2.content.0.tool_use_id: ...`), so a test failure names
 * exactly what the CLI sent wrong.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class Problems {
  readonly list: string[] = [];

  add(path: string, message: string): void {
    this.list.push(path ? `${path}: ${message}` : message);
  }

  get ok(): boolean {
    return this.list.length === 0;
  }

  /** Both APIs reject fields they do not know ("Extra inputs are not permitted" / "Unknown parameter"). */
  keys(path: string, obj: JsonObject, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(join(path, key), 'unknown field (extra inputs are not permitted)');
    }
  }

  object(path: string, value: unknown): value is JsonObject {
    if (isObject(value)) return true;
    this.add(path, `expected an object, got ${kind(value)}`);
    return false;
  }

  array(path: string, value: unknown, options: { nonEmpty?: boolean } = {}): value is unknown[] {
    if (!Array.isArray(value)) {
      this.add(path, `expected an array, got ${kind(value)}`);
      return false;
    }
    if (options.nonEmpty && value.length === 0) {
      this.add(path, 'must not be empty');
      return false;
    }
    return true;
  }

  string(
    path: string,
    value: unknown,
    options: { nonEmpty?: boolean; pattern?: RegExp } = {},
  ): value is string {
    if (typeof value !== 'string') {
      this.add(path, `expected a string, got ${kind(value)}`);
      return false;
    }
    if (options.nonEmpty && value.length === 0) {
      this.add(path, 'must not be empty');
      return false;
    }
    if (options.pattern && !options.pattern.test(value)) {
      this.add(path, `${JSON.stringify(value.slice(0, 80))} does not match ${options.pattern}`);
      return false;
    }
    return true;
  }

  boolean(path: string, value: unknown): value is boolean {
    if (typeof value === 'boolean') return true;
    this.add(path, `expected a boolean, got ${kind(value)}`);
    return false;
  }

  number(
    path: string,
    value: unknown,
    range: { min?: number; max?: number; integer?: boolean } = {},
  ): value is number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.add(path, `expected a number, got ${kind(value)}`);
      return false;
    }
    if (range.integer && !Number.isInteger(value)) {
      this.add(path, `expected an integer, got ${value}`);
      return false;
    }
    if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
      this.add(path, `${value} is out of range [${range.min ?? '-inf'}, ${range.max ?? 'inf'}]`);
      return false;
    }
    return true;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): value is T {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return true;
    this.add(path, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return false;
  }

  /** A JSON Schema for tool input: an object schema (both APIs require `type: "object"` at the top). */
  objectSchema(path: string, value: unknown): void {
    if (!this.object(path, value)) return;
    if (value.type !== 'object')
      this.add(join(path, 'type'), `expected "object", got ${JSON.stringify(value.type)}`);
    if (value.properties !== undefined) this.object(join(path, 'properties'), value.properties);
    if (value.required !== undefined && this.array(join(path, 'required'), value.required)) {
      value.required.forEach((r, i) => {
        this.string(join(path, `required.${i}`), r);
      });
    }
  }
}

export function join(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

/**
 * Splits a string into about n pieces (at least one) for streaming deltas, on code points: a lone
 * surrogate in a JSON string is invalid for strict decoders (Codex is written in Rust).
 */
export function chunks(text: string, pieces = 3): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [''];
  const size = Math.max(1, Math.ceil(chars.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** Random id in the providers' style (`toolu_…`, `call_…`): base62. */
export function randomId(prefix: string, length = 24): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < length; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `${prefix}${id}`;
}

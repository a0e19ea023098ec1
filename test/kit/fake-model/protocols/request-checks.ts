/**
 * Validating provider request bodies the way the real APIs do (each protocol module says what its
 * API rejects with a 400): every problem is collected with its JSON path
 * (`messages.2.content.0.tool_use_id: …`), so a failing test names exactly what the CLI sent wrong.
 * Plus small helpers the protocol modules share for their replies.
 */

export type Json = Record<string, unknown>;

export function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `path.key` (`messages.2.content`), or `key` at the top. */
export function at(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}

export class RequestChecks {
  readonly errors: string[] = [];

  get ok(): boolean {
    return this.errors.length === 0;
  }

  fail(path: string, message: string): false {
    this.errors.push(path ? `${path}: ${message}` : message);
    return false;
  }

  /** The APIs reject fields they do not know ("Extra inputs are not permitted", "Unknown name"). */
  onlyKeys(path: string, value: Json, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(at(path, key), 'unknown field');
    }
  }

  object(path: string, value: unknown): value is Json {
    return isJsonObject(value) || this.fail(path, `expected an object, got ${describe(value)}`);
  }

  array(path: string, value: unknown, options: { nonEmpty?: boolean } = {}): value is unknown[] {
    if (!Array.isArray(value)) return this.fail(path, `expected an array, got ${describe(value)}`);
    if (options.nonEmpty && value.length === 0) return this.fail(path, 'must not be empty');
    return true;
  }

  string(
    path: string,
    value: unknown,
    options: { nonEmpty?: boolean; pattern?: RegExp } = {},
  ): value is string {
    if (typeof value !== 'string') return this.fail(path, `expected a string, got ${describe(value)}`);
    if (options.nonEmpty && value.length === 0) return this.fail(path, 'must not be empty');
    if (options.pattern && !options.pattern.test(value)) {
      return this.fail(path, `${JSON.stringify(value.slice(0, 80))} does not match ${options.pattern}`);
    }
    return true;
  }

  boolean(path: string, value: unknown): value is boolean {
    return typeof value === 'boolean' || this.fail(path, `expected a boolean, got ${describe(value)}`);
  }

  number(
    path: string,
    value: unknown,
    range: { min?: number; max?: number; integer?: boolean } = {},
  ): value is number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return this.fail(path, `expected a number, got ${describe(value)}`);
    }
    if (range.integer && !Number.isInteger(value))
      return this.fail(path, `expected an integer, got ${value}`);
    if (range.min !== undefined && value < range.min)
      return this.fail(path, `${value} is below ${range.min}`);
    if (range.max !== undefined && value > range.max)
      return this.fail(path, `${value} is above ${range.max}`);
    return true;
  }

  oneOf<T extends string>(path: string, value: unknown, choices: readonly T[]): value is T {
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return true;
    return this.fail(path, `${JSON.stringify(value)} is not one of ${choices.join(', ')}`);
  }

  /** Checks each present optional field with its checker; absent (undefined) fields pass. */
  optional(
    value: Json,
    path: string,
    fields: Record<string, (path: string, value: unknown) => unknown>,
  ): void {
    for (const [key, check] of Object.entries(fields)) {
      if (value[key] !== undefined) check(at(path, key), value[key]);
    }
  }

  /** A JSON Schema for tool input: an object schema (the APIs require `type: "object"` at the top). */
  objectSchema(path: string, value: unknown): void {
    if (!this.object(path, value)) return;
    if (value.type !== 'object')
      this.fail(at(path, 'type'), `expected "object", got ${JSON.stringify(value.type)}`);
    if (value.properties !== undefined) this.object(at(path, 'properties'), value.properties);
    if (value.required !== undefined && this.array(at(path, 'required'), value.required)) {
      value.required.forEach((r, i) => {
        this.string(at(path, `required.${i}`), r);
      });
    }
  }
}

/** The checkout as the CLI describes it in its system prompt, for tools that want absolute paths. */
export function workingDirectoryIn(
  texts: readonly string[],
  patterns: readonly RegExp[],
): string | undefined {
  for (const text of texts) {
    for (const pattern of patterns) {
      const found = pattern.exec(text)?.[1]?.trim();
      if (found) return found;
    }
  }
  return undefined;
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

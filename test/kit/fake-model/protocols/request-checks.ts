/**
 * Collects what is wrong with a provider request, each problem with the JSON path where it was
 * found (`contents[2].parts[0].functionCall.name: …`), so a failing test names exactly what the CLI
 * sent. The checks mirror what the real APIs reject with a 400.
 */

export type Json = Record<string, unknown>;

export function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export class RequestChecks {
  readonly errors: string[] = [];

  fail(path: string, message: string): false {
    this.errors.push(path ? `${path}: ${message}` : message);
    return false;
  }

  /** Fields the API does not know are rejected ("Unknown name" / "Unrecognized request argument"). */
  onlyKeys(path: string, value: Json, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(at(path, key), 'unknown field');
    }
  }

  object(path: string, value: unknown): value is Json {
    return isJsonObject(value) || this.fail(path, `expected an object, got ${typeName(value)}`);
  }

  array(path: string, value: unknown, nonEmpty = false): value is unknown[] {
    if (!Array.isArray(value)) return this.fail(path, `expected an array, got ${typeName(value)}`);
    if (nonEmpty && value.length === 0) return this.fail(path, 'must not be empty');
    return true;
  }

  string(path: string, value: unknown, pattern?: RegExp): value is string {
    if (typeof value !== 'string') return this.fail(path, `expected a string, got ${typeName(value)}`);
    if (pattern && !pattern.test(value)) {
      return this.fail(path, `${JSON.stringify(value.slice(0, 80))} does not match ${pattern}`);
    }
    return true;
  }

  boolean(path: string, value: unknown): value is boolean {
    return typeof value === 'boolean' || this.fail(path, `expected a boolean, got ${typeName(value)}`);
  }

  number(
    path: string,
    value: unknown,
    range: { min?: number; max?: number; integer?: boolean } = {},
  ): boolean {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return this.fail(path, `expected a number, got ${typeName(value)}`);
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
}

export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
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

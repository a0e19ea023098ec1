/**
 * Finds the top-level fields of a JSON object without parsing it. Agent requests are large (the
 * whole conversation, often hundreds of KB) and the gateway needs only `model`, `stream` and
 * `stream_options`; `JSON.parse` of the whole body would cost milliseconds per agent step.
 * Strings are skipped with `indexOf`, so the scan mostly jumps from quote to quote.
 */

export interface Span {
  /** Byte offsets of the value: `buf.subarray(start, end)` is its JSON text. */
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(buf: Uint8Array, i: number): number {
  while (i < buf.length && isSpace(buf[i]!)) i++;
  return i;
}

/** `i` at an opening quote → index just after the closing one, or -1. */
function skipString(buf: Buffer, i: number): number {
  let at = i + 1;
  for (;;) {
    const q = buf.indexOf(QUOTE, at);
    if (q === -1) return -1;
    let slashes = 0;
    for (let k = q - 1; k > i && buf[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    at = q + 1;
  }
}

/** `i` at the first byte of a value → index just after it, or -1 when malformed. */
function skipValue(buf: Buffer, i: number): number {
  const c = buf[i];
  if (c === undefined) return -1;
  if (c === QUOTE) return skipString(buf, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let at = i;
    while (at < buf.length) {
      const b = buf[at]!;
      if (b === QUOTE) {
        at = skipString(buf, at);
        if (at === -1) return -1;
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    return -1;
  }
  // Number, true, false, null: up to the next delimiter.
  let at = i;
  while (at < buf.length) {
    const b = buf[at]!;
    if (b === 0x2c || b === 0x7d || b === 0x5d || isSpace(b)) break;
    at++;
  }
  return at > i ? at : -1;
}

export interface TopLevel {
  /** Each name's last occurrence, as JSON parsers read it. */
  fields: Map<string, Span>;
  /** Names that occur more than once (parsers disagree on which one counts). */
  duplicates: Set<string>;
}

/** The top-level fields of `buf`; undefined when it is not a well-formed JSON object at the top. */
export function topLevelFields(buf: Buffer): TopLevel | undefined {
  const fields = new Map<string, Span>();
  const duplicates = new Set<string>();
  const done = { fields, duplicates };
  let i = skipSpace(buf, 0);
  if (buf[i] !== 0x7b) return undefined;
  i = skipSpace(buf, i + 1);
  if (buf[i] === 0x7d) return skipSpace(buf, i + 1) === buf.length ? done : undefined;
  for (;;) {
    if (buf[i] !== QUOTE) return undefined;
    const keyEnd = skipString(buf, i);
    if (keyEnd === -1) return undefined;
    let key: string;
    try {
      key = JSON.parse(buf.toString('utf8', i, keyEnd)) as string;
    } catch {
      return undefined;
    }
    i = skipSpace(buf, keyEnd);
    if (buf[i] !== 0x3a) return undefined;
    const start = skipSpace(buf, i + 1);
    const end = skipValue(buf, start);
    if (end === -1) return undefined;
    if (fields.has(key)) duplicates.add(key);
    fields.set(key, { start, end });
    i = skipSpace(buf, end);
    if (buf[i] === 0x2c) {
      i = skipSpace(buf, i + 1);
      continue;
    }
    if (buf[i] === 0x7d && skipSpace(buf, i + 1) === buf.length) return done;
    return undefined;
  }
}

/** The JSON value of one field, parsed (small values only: model names, flags, options). */
export function fieldValue(buf: Buffer, span: Span | undefined): unknown {
  if (!span) return undefined;
  try {
    return JSON.parse(buf.toString('utf8', span.start, span.end));
  } catch {
    return undefined;
  }
}

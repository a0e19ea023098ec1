/** Small helpers the CLI stream parsers share: reading untyped JSON and shortening tool details. */

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

const DETAIL_MAX = 120;

/** One line of at most 120 characters for the progress line ("…" marks what was cut). */
export function clipDetail(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  const oneLine = line.trim() + (text.trim().includes('\n') ? ' …' : '');
  return oneLine.length > DETAIL_MAX ? `${oneLine.slice(0, DETAIL_MAX - 1)}…` : oneLine;
}

/** `path` relative to `cwd` when inside it (tool details show checkout paths short). */
export function relativeTo(path: string, cwd: string | undefined): string {
  const base = cwd?.replace(/\/+$/, '');
  if (base && path.startsWith(`${base}/`)) return path.slice(base.length + 1);
  return path;
}

/**
 * Parses the longest valid prefix of a JSON text, for lines the sandbox cut at its line cap: open
 * strings end where the text ends (a prefix of the string), open arrays and objects close, and a
 * value cut in the middle (a number, `tru`, a key without its value) is left out. Returns
 * undefined when not even the start of a value is there.
 */
export function parseJsonPrefix(text: string): unknown {
  let i = 0;
  const INCOMPLETE = Symbol('incomplete');
  type Value = unknown | typeof INCOMPLETE;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const string = (): string | typeof INCOMPLETE => {
    let out = '';
    i++; // opening quote
    while (i < text.length) {
      const c = text[i] as string;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === undefined) break;
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) break;
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 6;
          continue;
        }
        out += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    // Cut inside the string: keep what arrived, flagged so containers can tell.
    i = text.length;
    return out.length ? `${out}…` : INCOMPLETE;
  };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === undefined) return INCOMPLETE;
    if (c === '"') return string();
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return obj;
        }
        if (text[i] !== '"') return i >= text.length ? obj : INCOMPLETE;
        const key = string();
        ws();
        if (key === INCOMPLETE || text[i] !== ':') return obj;
        i++;
        const v = value();
        if (v === INCOMPLETE) return obj;
        obj[key] = v;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') return obj;
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        if (i >= text.length) return arr;
        const v = value();
        if (v === INCOMPLETE) return arr;
        arr.push(v);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') return arr;
      }
    }
    const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    // A literal that reaches the end of the text may have been cut (1234 of 12345).
    if (!literal || i + literal[0].length >= text.length) return INCOMPLETE;
    i += literal[0].length;
    return JSON.parse(literal[0]) as unknown;
  };
  const result = value();
  return result === INCOMPLETE ? undefined : result;
}

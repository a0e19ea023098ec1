/**
 * What the pure parsers of the agent CLIs' JSON-lines output share: the parser interface, reading a
 * line as a JSON object (also a line the sandbox cut at its line cap: such a line ends with
 * TRUNCATED_MARKER and is read as far as it goes), reading untyped fields, and one-line tool
 * details for the progress line.
 */
import { TRUNCATED_MARKER } from '../sandbox/lines.js';
import type { AgentEvent } from './types.js';

/** A pure parser of one CLI's event stream, fed one stdout line at a time. */
export interface StreamParser<Outcome> {
  push(line: string): AgentEvent[];
  /** Call once when the output ended: emits what a missing final event would have closed. */
  end(): AgentEvent[];
  /** What the stream told so far (session, summary, usage, the CLI's own error). */
  outcome(): Outcome;
}

/** Runs a whole recorded stream through a parser (tests, fixtures). */
export function parseStream<Outcome>(
  parser: StreamParser<Outcome>,
  lines: Iterable<string>,
): { events: AgentEvent[]; outcome: Outcome } {
  const events: AgentEvent[] = [];
  for (const line of lines) events.push(...parser.push(line));
  events.push(...parser.end());
  return { events, outcome: parser.outcome() };
}

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A finite number (a cost), else 0. */
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** A non-negative integer (a token count) from an untyped field, else 0. */
export function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/**
 * One stdout line as a JSON object; undefined for blank lines, foreign output and non-objects.
 * `truncated`: the sandbox cut the line, and `event` holds what came before the cut.
 */
export function readJsonLine(line: string): { event: JsonRecord; truncated: boolean } | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  if (line.endsWith(TRUNCATED_MARKER)) {
    const event = parseJsonPrefix(line.slice(0, -TRUNCATED_MARKER.length).trim());
    return isRecord(event) ? { event, truncated: true } : undefined;
  }
  try {
    const event: unknown = JSON.parse(trimmed);
    return isRecord(event) ? { event, truncated: false } : undefined;
  } catch {
    return undefined;
  }
}

/** readJsonLine that counts what it could not read (foreign output) and what was cut, for outcomes. */
export class JsonLineCounter {
  /** Non-blank lines that were not JSON objects. */
  skipped = 0;
  /** Lines cut at the sandbox's line cap, read as far as they went. */
  truncated = 0;

  read(line: string): { event: JsonRecord; truncated: boolean } | undefined {
    if (!line.trim()) return undefined;
    const read = readJsonLine(line);
    if (!read) this.skipped++;
    else if (read.truncated) this.truncated++;
    return read;
  }
}

/**
 * Parses the longest valid prefix of a JSON text, for lines the sandbox cut at its line cap: open
 * strings end where the text ends (marked with "…"), open arrays and objects close, and a value cut
 * in the middle (a number, `tru`, a key without its value) is left out. Returns undefined when not
 * even the start of a value is there.
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
    // Cut inside the string: keep what arrived, flagged so readers can tell.
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

/** An HTTP error status named in a CLI's error text ("status: 429", `"code": 401`, "HTTP 503", "status 401"). */
export function statusIn(text: string): number | undefined {
  const found = /(?:status(?:Code)?["']?\s*[:=]?\s*|"code"\s*:\s*|HTTP\s+)([45]\d\d)\b/i.exec(text);
  return found ? Number(found[1]) : undefined;
}

const DETAIL_MAX_CHARS = 120;

/**
 * One line of at most 120 characters for the progress line: the first non-empty line, whitespace
 * runs collapsed, " …" when more lines follow, "…" where it was cut.
 */
export function clipDetail(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim());
  const line = (lines[0] ?? '').replace(/\s+/g, ' ').trim() + (lines.length > 1 ? ' …' : '');
  return line.length > DETAIL_MAX_CHARS ? `${line.slice(0, DETAIL_MAX_CHARS - 1)}…` : line;
}

/** `path` relative to `cwd` when inside it (tool details show checkout paths short). */
export function relativeTo(path: string, cwd: string | undefined): string {
  const base = cwd?.replace(/\/+$/, '');
  if (base && path.startsWith(`${base}/`)) return path.slice(base.length + 1);
  return path;
}

/** Argument names that best describe a tool call in one line, in order of preference. */
const DETAIL_KEYS = [
  'command',
  'cmd',
  'file_path',
  'filePath',
  'absolute_path',
  'path',
  'dir_path',
  'pattern',
  'query',
  'url',
  'description',
  'prompt',
];

/** A one-line description of a tool call from its arguments ("npm test", "src/app.ts"). */
export function toolDetail(args: unknown, checkoutDir?: string): string | undefined {
  if (!isRecord(args)) return undefined;
  if (typeof args.patchText === 'string') {
    const files = patchFiles(args.patchText);
    if (files.length) return clipDetail(files.join(', '));
  }
  const value = DETAIL_KEYS.map((key) => args[key]).find(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  return value === undefined ? undefined : clipDetail(relativeTo(value, checkoutDir));
}

/** The files an apply_patch envelope touches ("*** Add File: a.txt" …). */
export function patchFiles(patch: string): string[] {
  return [...patch.matchAll(/^\*\*\* (?:Add|Update|Delete) File: (.+)$/gm)].map((m) => m[1]!.trim());
}

/**
 * Helpers for the pure parsers of agent CLIs' JSON-lines output. Lines arrive through LineSplitter,
 * which cuts lines over 64 KiB and marks them with TRUNCATED_MARKER: such a line is no longer JSON,
 * but its beginning still names the event and, often, the tool or the start of a text.
 */
import { TRUNCATED_MARKER } from '../sandbox/lines.js';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The line as a JSON object, or undefined (not JSON, truncated, an array, a progress line …). */
export function parseJsonLine(line: string): JsonRecord | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isTruncated(line: string): boolean {
  return line.endsWith(TRUNCATED_MARKER);
}

/** The value of the first `"key":"…"` in a (possibly cut) JSON text, decoded up to where it ends or was cut. */
export function salvageString(line: string, key: string): string | undefined {
  const start = line.indexOf(`"${key}":"`);
  if (start === -1) return undefined;
  let raw = '';
  for (let i = start + key.length + 4; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') return decodeJsonString(raw);
    if (c === '\\') {
      const next = line[i + 1];
      if (next === undefined) break;
      if (next === 'u') {
        if (i + 6 > line.length) break;
        raw += line.slice(i, i + 6);
        i += 5;
        continue;
      }
      raw += c + next;
      i++;
      continue;
    }
    raw += c;
  }
  const body = raw.endsWith(TRUNCATED_MARKER) ? raw.slice(0, -TRUNCATED_MARKER.length) : raw;
  return decodeJsonString(body);
}

function decodeJsonString(raw: string): string | undefined {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

const DETAIL_MAX_CHARS = 120;
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

/** A one-line description of a tool call for the progress line ("npm test", "src/app.ts"). */
export function toolDetail(args: unknown, checkoutDir?: string): string | undefined {
  if (!isRecord(args)) return undefined;
  if (typeof args.patchText === 'string') {
    const files = patchFiles(args.patchText);
    if (files.length) return clip(files.join(', '));
  }
  let value: string | undefined;
  for (const key of DETAIL_KEYS) {
    const v = args[key];
    if (typeof v === 'string' && v.trim()) {
      value = v;
      break;
    }
  }
  if (value === undefined) return undefined;
  if (checkoutDir && value.startsWith(`${checkoutDir.replace(/\/$/, '')}/`)) {
    value = value.slice(checkoutDir.replace(/\/$/, '').length + 1);
  }
  return clip(value);
}

/** The files an apply_patch envelope touches ("*** Add File: a.txt" …). */
export function patchFiles(patch: string): string[] {
  return [...patch.matchAll(/^\*\*\* (?:Add|Update|Delete) File: (.+)$/gm)].map((m) => m[1]!.trim());
}

/** One line, at most DETAIL_MAX_CHARS characters. */
export function clip(text: string, max = DETAIL_MAX_CHARS): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A non-negative integer from an untyped field, else 0. */
export function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

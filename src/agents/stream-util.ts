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

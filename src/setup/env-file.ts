import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * The `.env` file the setup flow writes and `npm start` reads. The format is the one Node's own
 * parser (`process.loadEnvFile`) reads: `KEY="value"` lines, `\n` inside double quotes is a newline.
 */

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** `KEY="value"` with newlines written as `\n`; refuses what cannot round-trip through Node's parser. */
export function envLine(key: string, value: string): string {
  if (!KEY.test(key)) throw new Error(`not an environment variable name: ${key}`);
  if (/["\\\r\0]/.test(value)) throw new Error(`${key}: the value cannot be written to a .env file`);
  return `${key}="${value.replace(/\n/g, '\\n')}"`;
}

/**
 * Set `values` in the .env file at `path`: a key already there is replaced where it stands (a
 * multi-line quoted value included), new keys are appended, every other line is kept as it was.
 * The file is replaced atomically and left readable by its owner only (0600): it holds secrets.
 */
export function updateEnvFile(path: string, values: Record<string, string>): void {
  const pending = new Map(Object.entries(values).map(([k, v]) => [k, envLine(k, v)]));
  const written = new Set<string>();
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const lines = before === '' ? [] : before.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const match = LINE.exec(line);
    const key = match?.[1];
    if (key === undefined || !pending.has(key)) {
      out.push(line);
      continue;
    }
    // Skip the rest of a quoted value that spans lines.
    const value = match?.[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !value.slice(1).includes(quote)) {
      while (i + 1 < lines.length && !(lines[i + 1] ?? '').includes(quote)) i++;
      i++;
    }
    if (!written.has(key)) out.push(pending.get(key) ?? '');
    written.add(key);
  }
  for (const [key, line] of pending) if (!written.has(key)) out.push(line);

  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, `${out.join('\n')}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/**
 * Load `.env` into `process.env` if the file exists, before the configuration is parsed. Variables
 * already in the environment win over the file. Returns what happened, for a log line.
 */
export function loadDotEnv(path = '.env'): 'loaded' | 'absent' | 'unsupported' {
  if (!existsSync(path)) return 'absent';
  if (typeof process.loadEnvFile !== 'function') return 'unsupported';
  process.loadEnvFile(path);
  return 'loaded';
}

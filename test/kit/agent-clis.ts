/**
 * The four agent CLIs from npm, at the versions pinned in docker/agent-clis.json (the same pins the
 * production agent image uses), installed once per machine into .cache/agent-clis. Several test
 * processes may ask at once: one installs under a lock directory, the others wait for it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const PINS_FILE = join(root, 'docker', 'agent-clis.json');

export type CliName = 'claude' | 'codex' | 'gemini' | 'opencode';

export interface AgentClis {
  /** The npm prefix: node_modules/ and node_modules/.bin/ are under it. */
  prefix: string;
  /** Host path of a CLI's executable. */
  bin(name: CliName): string;
  pins: Record<string, string>;
}

export function cliPins(): Record<string, string> {
  return JSON.parse(readFileSync(PINS_FILE, 'utf8')) as Record<string, string>;
}

let installing: Promise<AgentClis> | undefined;

export function installAgentClis(): Promise<AgentClis> {
  installing ??= install();
  return installing;
}

async function install(): Promise<AgentClis> {
  const pins = cliPins();
  const stamp = JSON.stringify(pins);
  const prefix = join(root, '.cache', 'agent-clis');
  const stampFile = join(prefix, 'installed.json');
  const lock = join(root, '.cache', 'agent-clis.lock');
  const result: AgentClis = { prefix, pins, bin: (name) => join(prefix, 'node_modules', '.bin', name) };
  const ready = () => existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (ready()) return result;
  mkdirSync(join(root, '.cache'), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else installs. A lock older than 10 minutes belongs to a dead process.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 10 * 60_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
      if (ready()) return result;
    }
  }
  try {
    if (ready()) return result;
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    const specs = Object.entries(pins).map(([name, version]) => `${name}@${version}`);
    await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', ...specs], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
    writeFileSync(stampFile, stamp);
    return result;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

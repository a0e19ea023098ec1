/** Small checks shared by the real-CLI agent integration tests. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentHarness } from '../kit/agent-harness.js';
import type { RecordedRequest } from '../kit/fake-model/types.js';

/** `git status --porcelain` of a checkout, untracked files listed one by one, sorted. */
export function gitStatus(dir: string): string[] {
  return execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=all'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .sort();
}

/** Paths (relative to `dir`) of every regular file under it, .git included, whose content includes `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && (await readFile(path)).includes(needle))
        found.push(path.slice(dir.length + 1));
    }
  };
  await walk(dir);
  return found;
}

/** The text of a request's messages of `role` (all roles when absent), joined. */
export function textOf(request: RecordedRequest, role?: string): string {
  return request.exchange.messages
    .filter((m) => role === undefined || m.role === role)
    .map((m) => m.text)
    .join('\n');
}

/** The prompt as the model received it: `prompt` if a user message holds it whole, else what came closest. */
export function promptOf(request: RecordedRequest, prompt: string): string {
  const users = request.exchange.messages.filter((m) => m.role === 'user').map((m) => m.text);
  if (users.some((text) => text.includes(prompt))) return prompt;
  return users.sort((a, b) => b.length - a.length)[0] ?? '';
}

/** Waits until a checkout of the harness holds `name`; returns that checkout. */
export async function waitForFile(harness: AgentHarness, name: string, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const entry of await readdir(harness.root)) {
      if (!entry.startsWith('checkout-')) continue;
      const dir = join(harness.root, entry);
      if (
        await access(join(dir, name)).then(
          () => true,
          () => false,
        )
      )
        return dir;
    }
    if (Date.now() > deadline) throw new Error(`no checkout got ${name} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Processes (not zombies) whose working directory is `dir` or below it: what a turn left running there. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (cwd === dir || cwd.startsWith(`${dir}/`))
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Whether `pid` runs (a zombie, killed but not yet reaped, does not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

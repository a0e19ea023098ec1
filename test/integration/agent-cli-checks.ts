/** Small checks shared by the real-CLI agent integration tests. */
import { execFileSync } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedRequest } from '../kit/fake-model/types.js';
import type { AgentHarness } from '../kit/real-agent-harness.js';

/** `git status --porcelain` of a checkout, untracked files listed one by one, sorted. */
export function gitStatus(dir: string): string[] {
  return execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=all'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .sort();
}

/** Every regular file under `dir` (recursively, without .git). */
export async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
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

/**
 * Host directories for a sandbox turn in tests (checkout, per-task home, scratch root) and a line
 * collector for `ExecOptions.onLine`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputStream, SandboxSpec } from '../../src/sandbox/types.js';

export interface SandboxDirs {
  root: string;
  scratchRoot: string;
  /** A fresh checkout dir and the task's home for one turn. */
  spec(task: string, extra?: Partial<SandboxSpec>): Promise<SandboxSpec>;
  cleanup(): Promise<void>;
}

export async function sandboxDirs(prefix = 'forge-sbx-'): Promise<SandboxDirs> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const scratchRoot = join(root, 'scratch');
  let turn = 0;
  return {
    root,
    scratchRoot,
    async spec(task, extra = {}) {
      const checkoutDir = join(root, 'checkouts', task, `turn-${++turn}`);
      await mkdir(checkoutDir, { recursive: true });
      return {
        checkoutDir,
        homeDir: join(root, 'homes', task),
        env: {},
        labels: { 'forge.task': task, 'forge.turn': String(turn) },
        ...extra,
      };
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export interface Lines {
  all: Array<{ stream: OutputStream; line: string }>;
  stdout(): string[];
  stderr(): string[];
  onLine(stream: OutputStream, line: string): void;
}

export function collectLines(): Lines {
  const all: Lines['all'] = [];
  return {
    all,
    stdout: () => all.filter((l) => l.stream === 'stdout').map((l) => l.line),
    stderr: () => all.filter((l) => l.stream === 'stderr').map((l) => l.line),
    onLine(stream, line) {
      all.push({ stream, line });
    },
  };
}

/**
 * Claude Code's own tools, as its requests offer them (2.1.x): `Write` takes an absolute
 * `file_path` and `content`; `Bash` takes `command` plus a human-readable `description`. Claude Code
 * refuses a `Write` over an existing file it has not `Read` first, so scripts write new files (or
 * use `[[shell:…]]` to change existing ones).
 */
import { posix } from 'node:path';
import { SHELL_TOOLS, WRITE_TOOLS } from '../brain.js';
import type { Exchange } from '../types.js';

/**
 * The checkout as Claude Code sees it: its environment reminder names the working directory, and a
 * resumed session in another directory adds an "Environment update" naming the new one — the last
 * mention wins.
 */
export function claudeCodeCwd(exchange: Exchange): string {
  for (const m of [...exchange.messages].reverse()) {
    const found = [...m.text.matchAll(/Primary working directory: (\S[^\n]*)/g)].at(-1);
    if (found?.[1]) return found[1].trim();
  }
  throw new Error('fake model: no "Primary working directory" in the Claude Code request');
}

WRITE_TOOLS.Write = (action, exchange) => ({
  file_path: posix.resolve(claudeCodeCwd(exchange), action.path),
  content: action.content,
});

SHELL_TOOLS.Bash = (action) => ({ command: action.command, description: 'Run the scripted command' });

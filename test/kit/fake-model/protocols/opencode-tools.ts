/**
 * OpenCode's own tools (1.18): `write { filePath, content }` (an absolute path), `bash { command }`,
 * and for `gpt-*` models `apply_patch { patchText }` instead of `write`/`edit`. Registered for the
 * `openai-chat` protocol only: Codex offers an `apply_patch` of another shape.
 */
import { SHELL_TOOLS, WRITE_TOOLS } from '../brain.js';
import type { Exchange } from '../types.js';
import { workingDirectoryIn } from './request-checks.js';

/** OpenCode's system prompt has an `<env>` block with "Working directory: /path". */
function checkoutOf(exchange: Exchange): string | undefined {
  return workingDirectoryIn(
    exchange.messages.filter((m) => m.role === 'system').map((m) => m.text),
    [/^\s*Working directory: (\S[^\n]*)$/m],
  );
}

function absolute(path: string, exchange: Exchange): string {
  const dir = checkoutOf(exchange);
  if (path.startsWith('/') || !dir) return path;
  return `${dir.replace(/\/$/, '')}/${path}`;
}

WRITE_TOOLS['openai-chat:write'] = (action, exchange) => ({
  filePath: absolute(action.path, exchange),
  content: action.content,
});

WRITE_TOOLS['openai-chat:apply_patch'] = (action) => ({
  patchText: [
    '*** Begin Patch',
    `*** Add File: ${action.path}`,
    ...action.content.split('\n').map((line) => `+${line}`),
    '*** End Patch',
  ].join('\n'),
});

SHELL_TOOLS['openai-chat:bash'] = (action) => ({ command: action.command });

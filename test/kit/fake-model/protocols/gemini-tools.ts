/**
 * Gemini CLI's own tools (0.61, offered with `--yolo`): `write_file { file_path, content }` and
 * `run_shell_command { command, description }`. Registered for the `gemini` protocol only.
 */
import { SHELL_TOOLS, WRITE_TOOLS } from '../brain.js';
import type { Exchange } from '../types.js';
import { workingDirectoryIn } from './request-checks.js';

/** Gemini CLI lists the checkout in its session context: "Workspace Directories:\n  - /path". */
function checkoutOf(exchange: Exchange): string | undefined {
  return workingDirectoryIn(
    exchange.messages.filter((m) => m.role === 'user' || m.role === 'system').map((m) => m.text),
    [/Workspace Directories:\*{0,2}\s*\n\s*- (\S[^\n]*)/],
  );
}

WRITE_TOOLS['gemini:write_file'] = (action, exchange) => {
  const dir = checkoutOf(exchange);
  return {
    file_path: dir && !action.path.startsWith('/') ? `${dir.replace(/\/$/, '')}/${action.path}` : action.path,
    content: action.content,
  };
};

SHELL_TOOLS['gemini:run_shell_command'] = (action) => ({
  command: action.command,
  description: `Run ${action.command.slice(0, 60)}`,
});

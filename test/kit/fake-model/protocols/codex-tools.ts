/**
 * Codex's own tools, as its Responses requests offer them (0.169): `apply_patch` is a custom
 * (freeform, Lark grammar) tool whose input is a patch; `exec_command` is a function taking `cmd`.
 * An "Add File" patch writes the whole file (creating directories); every patch line ends with a
 * newline, so a scripted file always ends with one.
 */
import { SHELL_TOOLS, WRITE_TOOLS } from '../brain.js';

export function addFilePatch(path: string, content: string): string {
  const lines = content.split('\n');
  if (content.endsWith('\n')) lines.pop();
  return `*** Begin Patch\n*** Add File: ${path}\n${lines.map((l) => `+${l}\n`).join('')}*** End Patch\n`;
}

WRITE_TOOLS.apply_patch = (action) => ({ input: addFilePatch(action.path, action.content) });

SHELL_TOOLS.exec_command = (action) => ({ cmd: action.command });

/*
 * Codex's "code mode" (its gpt-6 models): one freeform `exec` tool runs JavaScript in which the real
 * tools are `await tools.apply_patch(patch)` and `await tools.exec_command({ cmd })`.
 */
WRITE_TOOLS.exec = (action) => ({
  input: `const r = await tools.apply_patch(${JSON.stringify(addFilePatch(action.path, action.content))});\ntext(r);\n`,
});

SHELL_TOOLS.exec = (action) => ({
  input: `const r = await tools.exec_command({ cmd: ${JSON.stringify(action.command)} });\ntext(r);\n`,
});

/**
 * OpenAI Responses API: validation of tool definitions (top-level `tools`, and the namespaces of
 * `additional_tools` input items) and `tool_choice`, as the real API answers with `400`.
 */
import type { RequestChecks } from './request-checks.js';

export const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_TYPES = [
  'function',
  'custom',
  'web_search',
  'web_search_preview',
  'file_search',
  'code_interpreter',
  'image_generation',
  'computer_use_preview',
  'mcp',
  'local_shell',
  'shell',
  'apply_patch',
  'tool_search',
  'namespace',
] as const;

/** Returns tool name → type for the named tools (namespaced ones included). */
export function validateTools(
  tools: unknown,
  at: string,
  p: RequestChecks,
  named = new Map<string, string>(),
): Map<string, string> {
  if (tools === undefined) return named;
  if (!p.array(at, tools)) return named;
  tools.forEach((tool, i) => {
    const path = `${at}.${i}`;
    if (!p.object(path, tool) || !p.oneOf(`${path}.type`, tool.type, TOOL_TYPES)) return;
    if (tool.type === 'function') {
      p.onlyKeys(path, tool, ['type', 'name', 'description', 'parameters', 'strict', 'defer_loading']);
      p.string(`${path}.name`, tool.name, { pattern: FUNCTION_NAME });
      if (tool.description !== undefined) p.string(`${path}.description`, tool.description);
      if (tool.parameters !== null) p.objectSchema(`${path}.parameters`, tool.parameters);
      if (tool.strict !== undefined) p.boolean(`${path}.strict`, tool.strict);
    } else if (tool.type === 'custom') {
      p.onlyKeys(path, tool, ['type', 'name', 'description', 'format', 'defer_loading']);
      p.string(`${path}.name`, tool.name, { pattern: FUNCTION_NAME });
      if (tool.format !== undefined && p.object(`${path}.format`, tool.format)) {
        if (
          p.oneOf(`${path}.format.type`, tool.format.type, ['text', 'grammar']) &&
          tool.format.type === 'grammar'
        ) {
          p.oneOf(`${path}.format.syntax`, tool.format.syntax, ['lark', 'regex']);
          p.string(`${path}.format.definition`, tool.format.definition, { nonEmpty: true });
        }
      }
    } else if (tool.type === 'namespace') {
      p.onlyKeys(path, tool, ['type', 'name', 'description', 'tools']);
      p.string(`${path}.name`, tool.name, { pattern: FUNCTION_NAME });
      if (tool.tools !== undefined) validateTools(tool.tools, `${path}.tools`, p, named);
    } else if (tool.type === 'tool_search') {
      if (tool.execution !== undefined) p.oneOf(`${path}.execution`, tool.execution, ['client', 'server']);
      if (tool.parameters !== undefined) p.objectSchema(`${path}.parameters`, tool.parameters);
    }
    if (typeof tool.name === 'string') {
      if (named.has(tool.name)) p.fail(`${path}.name`, `duplicate tool name ${tool.name}`);
      named.set(tool.name, String(tool.type));
    }
  });
  return named;
}

export function validateToolChoice(choice: unknown, tools: Map<string, string>, p: RequestChecks): void {
  if (choice === undefined || typeof choice === 'string') {
    if (choice !== undefined) p.oneOf('tool_choice', choice, ['auto', 'none', 'required']);
    return;
  }
  if (!p.object('tool_choice', choice)) return;
  if ((choice.type === 'function' || choice.type === 'custom') && p.string('tool_choice.name', choice.name)) {
    if (tools.get(choice.name) !== choice.type)
      p.fail('tool_choice.name', `no ${choice.type} tool named ${choice.name}`);
  }
}

/**
 * Chat Completions function tools (`tools[].function` with a valid, unique name and an object
 * parameter schema) and `tool_choice` (only with tools, naming one of them).
 */
import { at, type RequestChecks } from './request-checks.js';

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function checkTools(checks: RequestChecks, value: unknown): string[] | undefined {
  if (!checks.array('tools', value)) return undefined;
  const names: string[] = [];
  value.forEach((tool, i) => {
    const p = at('tools', i);
    if (!checks.object(p, tool)) return;
    checks.onlyKeys(p, tool, ['type', 'function']);
    if (!checks.oneOf(at(p, 'type'), tool.type, ['function'])) return;
    if (!checks.object(at(p, 'function'), tool.function)) return;
    const fn = tool.function;
    checks.onlyKeys(at(p, 'function'), fn, ['name', 'description', 'parameters', 'strict']);
    if (!checks.string(at(p, 'function.name'), fn.name, { pattern: TOOL_NAME })) return;
    if (names.includes(fn.name)) checks.fail(at(p, 'function.name'), `duplicate tool name ${fn.name}`);
    names.push(fn.name);
    if (fn.description !== undefined) checks.string(at(p, 'function.description'), fn.description);
    if (fn.strict !== undefined && fn.strict !== null) checks.boolean(at(p, 'function.strict'), fn.strict);
    if (fn.parameters !== undefined && checks.object(at(p, 'function.parameters'), fn.parameters)) {
      if (fn.parameters.type !== 'object') {
        checks.fail(
          at(p, 'function.parameters.type'),
          "function parameters must be a JSON schema of type 'object'",
        );
      }
    }
  });
  return names;
}

export function checkToolChoice(checks: RequestChecks, value: unknown, tools: string[] | undefined): void {
  if (!tools) {
    checks.fail('tool_choice', "is only allowed when 'tools' are specified");
    return;
  }
  if (typeof value === 'string') {
    checks.oneOf('tool_choice', value, ['none', 'auto', 'required']);
    return;
  }
  if (!checks.object('tool_choice', value)) return;
  checks.oneOf('tool_choice.type', value.type, ['function', 'allowed_tools']);
  if (value.type === 'function' && checks.object('tool_choice.function', value.function)) {
    const name = value.function.name;
    if (typeof name !== 'string' || !tools.includes(name)) {
      checks.fail('tool_choice.function.name', `${JSON.stringify(name)} is not among the tools`);
    }
  }
}

/**
 * The declaration side of a Gemini GenerateContentRequest: `tools` (function declarations with valid,
 * unique names and one parameter schema), `toolConfig` and `generationConfig`, as the API reference
 * describes them.
 */
import { at, type RequestChecks } from './request-checks.js';

const TOOL_KEYS = [
  'functionDeclarations',
  'googleSearchRetrieval',
  'codeExecution',
  'googleSearch',
  'computerUse',
  'urlContext',
  'fileSearch',
  'googleMaps',
  'mcpServers',
] as const;

const GENERATION_CONFIG_KEYS = [
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  '_responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
] as const;

/** "Must start with a letter or an underscore … a-z, A-Z, 0-9, underscores, dots, colons and dashes, at most 64." */
export const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
export function checkTools(checks: RequestChecks, value: unknown): string[] {
  if (!checks.array('tools', value)) return [];
  const names: string[] = [];
  value.forEach((tool, i) => {
    const path = at('tools', i);
    if (!checks.object(path, tool)) return;
    checks.onlyKeys(path, tool, TOOL_KEYS);
    if (Object.keys(tool).length === 0) checks.fail(path, 'a tool needs at least one field');
    if (tool.functionDeclarations === undefined) return;
    const declPath = at(path, 'functionDeclarations');
    if (!checks.array(declPath, tool.functionDeclarations)) return;
    tool.functionDeclarations.forEach((decl, j) => {
      const p = at(declPath, j);
      if (!checks.object(p, decl)) return;
      checks.onlyKeys(p, decl, [
        'name',
        'description',
        'behavior',
        'parameters',
        'parametersJsonSchema',
        'response',
        'responseJsonSchema',
      ]);
      if (!checks.string(at(p, 'name'), decl.name, { pattern: FUNCTION_NAME })) return;
      if (names.includes(decl.name)) checks.fail(at(p, 'name'), `duplicate function name ${decl.name}`);
      names.push(decl.name);
      if (decl.description !== undefined) checks.string(at(p, 'description'), decl.description);
      if (decl.parameters !== undefined && decl.parametersJsonSchema !== undefined) {
        checks.fail(p, 'parameters and parametersJsonSchema are mutually exclusive');
      }
      if (decl.parameters !== undefined) checkSchema(checks, at(p, 'parameters'), decl.parameters);
      if (
        decl.parametersJsonSchema !== undefined &&
        checks.object(at(p, 'parametersJsonSchema'), decl.parametersJsonSchema)
      ) {
        const type = decl.parametersJsonSchema.type;
        if (type !== undefined && type !== 'object') {
          checks.fail(at(p, 'parametersJsonSchema.type'), 'function parameters must be an object schema');
        }
      }
    });
  });
  return names;
}

/** The OpenAPI-subset Schema of `parameters`: a known type, object properties, array items. */
function checkSchema(checks: RequestChecks, path: string, value: unknown): void {
  if (!checks.object(path, value)) return;
  const types = ['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL'];
  if (
    value.type !== undefined &&
    !(typeof value.type === 'string' && types.includes(value.type.toUpperCase()))
  ) {
    checks.fail(at(path, 'type'), `unknown schema type ${JSON.stringify(value.type)}`);
  }
  if (value.properties !== undefined && checks.object(at(path, 'properties'), value.properties)) {
    for (const [key, schema] of Object.entries(value.properties))
      checkSchema(checks, at(at(path, 'properties'), key), schema);
  }
  if (value.items !== undefined) checkSchema(checks, at(path, 'items'), value.items);
  if (value.required !== undefined && checks.array(at(path, 'required'), value.required)) {
    for (const [i, r] of value.required.entries()) checks.string(at(at(path, 'required'), i), r);
  }
}

export function checkToolConfig(checks: RequestChecks, value: unknown, declared: string[]): void {
  if (!checks.object('toolConfig', value)) return;
  checks.onlyKeys('toolConfig', value, [
    'functionCallingConfig',
    'retrievalConfig',
    'includeServerSideToolInvocations',
  ]);
  const fc = value.functionCallingConfig;
  if (fc === undefined || !checks.object('toolConfig.functionCallingConfig', fc)) return;
  checks.onlyKeys('toolConfig.functionCallingConfig', fc, ['mode', 'allowedFunctionNames']);
  if (fc.mode !== undefined) {
    checks.oneOf('toolConfig.functionCallingConfig.mode', fc.mode, [
      'MODE_UNSPECIFIED',
      'AUTO',
      'ANY',
      'NONE',
      'VALIDATED',
    ]);
  }
  if (
    fc.allowedFunctionNames !== undefined &&
    checks.array('toolConfig.functionCallingConfig.allowedFunctionNames', fc.allowedFunctionNames)
  ) {
    if (fc.mode !== 'ANY' && fc.mode !== 'VALIDATED') {
      checks.fail(
        'toolConfig.functionCallingConfig.allowedFunctionNames',
        'only allowed with mode ANY or VALIDATED',
      );
    }
    for (const name of fc.allowedFunctionNames) {
      if (typeof name !== 'string' || !declared.includes(name)) {
        checks.fail(
          'toolConfig.functionCallingConfig.allowedFunctionNames',
          `${JSON.stringify(name)} is not a declared function`,
        );
      }
    }
  }
}

export function checkGenerationConfig(checks: RequestChecks, value: unknown): void {
  if (!checks.object('generationConfig', value)) return;
  const path = 'generationConfig';
  checks.onlyKeys(path, value, GENERATION_CONFIG_KEYS);
  checks.optional(value, path, {
    temperature: (p, v) => checks.number(p, v, { min: 0, max: 2 }),
    topP: (p, v) => checks.number(p, v, { min: 0, max: 1 }),
    topK: (p, v) => checks.number(p, v, { min: 1, integer: true }),
    candidateCount: (p, v) => checks.number(p, v, { min: 1, max: 8, integer: true }),
    maxOutputTokens: (p, v) => checks.number(p, v, { min: 1, integer: true }),
    seed: (p, v) => checks.number(p, v, { integer: true }),
    responseMimeType: (p, v) => checks.oneOf(p, v, ['text/plain', 'application/json', 'text/x.enum']),
    stopSequences: (p, v) => {
      if (!checks.array(p, v)) return;
      if (v.length > 5) checks.fail(p, 'at most 5 stop sequences');
      for (const [i, s] of v.entries()) checks.string(at(p, i), s);
    },
    thinkingConfig: (p, v) => {
      if (!checks.object(p, v)) return;
      checks.onlyKeys(p, v, ['includeThoughts', 'thinkingBudget', 'thinkingLevel']);
      checks.optional(v, p, {
        includeThoughts: (q, w) => checks.boolean(q, w),
        thinkingBudget: (q, w) => checks.number(q, w, { min: -1, integer: true }),
        thinkingLevel: (q, w) =>
          checks.oneOf(q, w, ['THINKING_LEVEL_UNSPECIFIED', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH']),
      });
      if (v.thinkingBudget !== undefined && v.thinkingLevel !== undefined) {
        checks.fail(p, 'thinkingBudget and thinkingLevel are mutually exclusive');
      }
    },
  });
}

/** `countTokens` takes either `contents` or a whole `generateContentRequest`, not both. */

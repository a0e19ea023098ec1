/**
 * Validation of Gemini API (v1beta) generateContent / streamGenerateContent / countTokens request
 * bodies, after the REST reference: GenerateContentRequest, Content, Part (exactly one data field),
 * Tool / FunctionDeclaration, ToolConfig, GenerationConfig. Like the real API it rejects unknown
 * fields, roles other than `user` and `model`, empty parts, function calls outside model turns and
 * function responses that do not answer the function calls of the turn right before them.
 */
import { at, isJsonObject, type Json, type RequestChecks } from './request-checks.js';

const REQUEST_KEYS = [
  'model',
  'contents',
  'tools',
  'toolConfig',
  'safetySettings',
  'systemInstruction',
  'generationConfig',
  'cachedContent',
  'labels',
] as const;

const DATA_FIELDS = [
  'text',
  'inlineData',
  'functionCall',
  'functionResponse',
  'fileData',
  'executableCode',
  'codeExecutionResult',
] as const;
const PART_KEYS = [
  ...DATA_FIELDS,
  'thought',
  'thoughtSignature',
  'videoMetadata',
  'partMetadata',
  'mediaResolution',
] as const;

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
const MODEL_NAME = /^[a-z0-9][a-z0-9.-]*$/;

export interface GeminiContent {
  role: 'user' | 'model';
  parts: Json[];
}

export interface ValidGeminiRequest {
  model: string;
  contents: GeminiContent[];
  systemText: string;
  tools: string[];
}

export function checkModelName(checks: RequestChecks, model: string): void {
  if (!MODEL_NAME.test(model)) checks.fail('path', `unexpected model name ${JSON.stringify(model)}`);
}

/** Validates a GenerateContentRequest body; on success returns what the exchange needs. */
export function validateGenerateContent(
  checks: RequestChecks,
  body: unknown,
  model: string,
): ValidGeminiRequest | undefined {
  if (!checks.object('body', body)) return undefined;
  checks.onlyKeys('', body, REQUEST_KEYS);
  if (body.model !== undefined) checks.string('model', body.model);
  const contents = checkContents(checks, body.contents);
  const systemText =
    body.systemInstruction === undefined ? '' : checkSystemInstruction(checks, body.systemInstruction);
  const tools = body.tools === undefined ? [] : checkTools(checks, body.tools);
  if (body.toolConfig !== undefined) checkToolConfig(checks, body.toolConfig, tools);
  if (body.generationConfig !== undefined) checkGenerationConfig(checks, body.generationConfig);
  if (body.safetySettings !== undefined && checks.array('safetySettings', body.safetySettings)) {
    body.safetySettings.forEach((s, i) => {
      const path = at('safetySettings', i);
      if (!checks.object(path, s)) return;
      checks.onlyKeys(path, s, ['category', 'threshold', 'method']);
      checks.string(at(path, 'category'), s.category);
      checks.string(at(path, 'threshold'), s.threshold);
    });
  }
  if (body.cachedContent !== undefined) checks.string('cachedContent', body.cachedContent);
  if (checks.errors.length || !contents) return undefined;
  return { model, contents, systemText, tools };
}

function checkContents(checks: RequestChecks, value: unknown): GeminiContent[] | undefined {
  if (value === undefined) return checks.fail('contents', 'is required') || undefined;
  if (!checks.array('contents', value, true)) return undefined;
  const contents: GeminiContent[] = [];
  value.forEach((content, i) => {
    const path = at('contents', i);
    if (!checks.object(path, content)) return;
    checks.onlyKeys(path, content, ['role', 'parts']);
    if (!checks.oneOf(at(path, 'role'), content.role, ['user', 'model'] as const)) return;
    const parts = checkParts(checks, at(path, 'parts'), content.parts, content.role);
    if (parts) contents.push({ role: content.role, parts });
  });
  if (contents.length !== value.length) return undefined;
  checkFunctionTurns(checks, contents);
  return contents;
}

function checkParts(
  checks: RequestChecks,
  path: string,
  value: unknown,
  role: 'user' | 'model',
): Json[] | undefined {
  if (!checks.array(path, value, true)) return undefined;
  const parts: Json[] = [];
  value.forEach((part, i) => {
    const p = at(path, i);
    if (!checks.object(p, part)) return;
    checks.onlyKeys(p, part, PART_KEYS);
    const data = DATA_FIELDS.filter((f) => part[f] !== undefined);
    if (data.length !== 1) {
      checks.fail(
        p,
        `a part needs exactly one of ${DATA_FIELDS.join(', ')} (got ${data.join(', ') || 'none'})`,
      );
      return;
    }
    checks.optional(part, p, {
      text: (q, v) => checks.string(q, v),
      thought: (q, v) => checks.boolean(q, v),
      thoughtSignature: (q, v) => checks.string(q, v, /^[A-Za-z0-9+/_=-]+$/),
      functionCall: (q, v) => checkFunctionCall(checks, q, v, role),
      functionResponse: (q, v) => checkFunctionResponse(checks, q, v, role),
      inlineData: (q, v) => checkBlob(checks, q, v),
    });
    parts.push(part);
  });
  return parts.length === value.length ? parts : undefined;
}

function checkFunctionCall(checks: RequestChecks, path: string, value: unknown, role: string): void {
  if (role !== 'model') checks.fail(path, 'function calls may only appear in "model" contents');
  if (!checks.object(path, value)) return;
  checks.onlyKeys(path, value, ['id', 'name', 'args']);
  checks.string(at(path, 'name'), value.name, FUNCTION_NAME);
  if (value.args !== undefined) checks.object(at(path, 'args'), value.args);
  if (value.id !== undefined) checks.string(at(path, 'id'), value.id);
}

function checkFunctionResponse(checks: RequestChecks, path: string, value: unknown, role: string): void {
  if (role !== 'user') checks.fail(path, 'function responses may only appear in "user" contents');
  if (!checks.object(path, value)) return;
  checks.onlyKeys(path, value, ['id', 'name', 'response', 'parts', 'willContinue', 'scheduling']);
  checks.string(at(path, 'name'), value.name, FUNCTION_NAME);
  if (value.response === undefined) checks.fail(at(path, 'response'), 'is required');
  else checks.object(at(path, 'response'), value.response);
  if (value.id !== undefined) checks.string(at(path, 'id'), value.id);
}

function checkBlob(checks: RequestChecks, path: string, value: unknown): void {
  if (!checks.object(path, value)) return;
  checks.onlyKeys(path, value, ['mimeType', 'data', 'displayName']);
  checks.string(at(path, 'mimeType'), value.mimeType);
  checks.string(at(path, 'data'), value.data, /^[A-Za-z0-9+/_=-]*$/);
}

/**
 * "Please ensure that function response turn comes immediately after a function call turn" and
 * "… the number of function response parts is equal to the number of function call parts".
 */
function checkFunctionTurns(checks: RequestChecks, contents: GeminiContent[]): void {
  contents.forEach((content, i) => {
    const calls = content.parts
      .filter((p) => p.functionCall !== undefined)
      .map((p) => p.functionCall as Json);
    const responses = content.parts
      .filter((p) => p.functionResponse !== undefined)
      .map((p) => p.functionResponse as Json);
    if (responses.length > 0) {
      const before = contents[i - 1];
      const asked = before?.parts
        .filter((p) => p.functionCall !== undefined)
        .map((p) => p.functionCall as Json);
      if (!asked?.length) {
        checks.fail(at('contents', i), 'a function response turn must come right after a function call turn');
      } else if (asked.length !== responses.length) {
        checks.fail(
          at('contents', i),
          `${responses.length} function response part(s) for ${asked.length} function call part(s) of the turn before`,
        );
      } else {
        const names = (list: Json[]) => list.map((f) => String(f.name)).sort();
        if (names(asked).join() !== names(responses).join()) {
          checks.fail(
            at('contents', i),
            `function responses (${names(responses).join(', ')}) do not match the calls (${names(asked).join(', ')})`,
          );
        }
        const askedIds = asked.map((f) => f.id).filter((id) => id !== undefined);
        for (const r of responses) {
          if (r.id !== undefined && askedIds.length > 0 && !askedIds.includes(r.id)) {
            checks.fail(at('contents', i), `function response id ${JSON.stringify(r.id)} answers no call`);
          }
        }
      }
    }
    if (calls.length > 0) {
      const next = contents[i + 1];
      const answered = next?.parts.some((p) => p.functionResponse !== undefined);
      if (next && !answered) {
        checks.fail(at('contents', i + 1), 'a function call turn must be followed by its function responses');
      }
    }
  });
}

function checkSystemInstruction(checks: RequestChecks, value: unknown): string {
  if (!checks.object('systemInstruction', value)) return '';
  checks.onlyKeys('systemInstruction', value, ['role', 'parts']);
  if (value.role !== undefined) checks.string('systemInstruction.role', value.role);
  if (!checks.array('systemInstruction.parts', value.parts, true)) return '';
  const texts: string[] = [];
  value.parts.forEach((part, i) => {
    const path = at('systemInstruction.parts', i);
    if (!checks.object(path, part)) return;
    checks.onlyKeys(path, part, ['text']);
    if (checks.string(at(path, 'text'), part.text)) texts.push(part.text);
  });
  return texts.join('\n');
}

function checkTools(checks: RequestChecks, value: unknown): string[] {
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
      if (!checks.string(at(p, 'name'), decl.name, FUNCTION_NAME)) return;
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

function checkToolConfig(checks: RequestChecks, value: unknown, declared: string[]): void {
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

function checkGenerationConfig(checks: RequestChecks, value: unknown): void {
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
export function validateCountTokens(
  checks: RequestChecks,
  body: unknown,
  model: string,
): ValidGeminiRequest | undefined {
  if (!checks.object('body', body)) return undefined;
  checks.onlyKeys('', body, ['contents', 'generateContentRequest']);
  if ((body.contents === undefined) === (body.generateContentRequest === undefined)) {
    checks.fail('', 'exactly one of contents and generateContentRequest is required');
    return undefined;
  }
  if (body.generateContentRequest !== undefined) {
    const inner = body.generateContentRequest;
    if (isJsonObject(inner) && inner.model !== undefined && inner.model !== `models/${model}`) {
      checks.fail('generateContentRequest.model', `must be models/${model}`);
    }
    return validateGenerateContent(checks, inner, model);
  }
  const contents = checkContents(checks, body.contents);
  return contents && !checks.errors.length ? { model, contents, systemText: '', tools: [] } : undefined;
}

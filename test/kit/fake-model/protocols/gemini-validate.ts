/**
 * Validation of Gemini API (v1beta) generateContent / streamGenerateContent / countTokens request
 * bodies, after the REST reference: GenerateContentRequest, Content, Part (exactly one data field),
 * Tool / FunctionDeclaration, ToolConfig, GenerationConfig. Like the real API it rejects unknown
 * fields, roles other than `user` and `model`, empty parts, function calls outside model turns and
 * function responses that do not answer the function calls of the turn right before them.
 */
import {
  checkGenerationConfig,
  checkToolConfig,
  checkTools,
  FUNCTION_NAME,
} from './gemini-validate-tools.js';
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
  if (!checks.array('contents', value, { nonEmpty: true })) return undefined;
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
  if (!checks.array(path, value, { nonEmpty: true })) return undefined;
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
      thoughtSignature: (q, v) => checks.string(q, v, { pattern: /^[A-Za-z0-9+/_=-]+$/ }),
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
  checks.string(at(path, 'name'), value.name, { pattern: FUNCTION_NAME });
  if (value.args !== undefined) checks.object(at(path, 'args'), value.args);
  if (value.id !== undefined) checks.string(at(path, 'id'), value.id);
}

function checkFunctionResponse(checks: RequestChecks, path: string, value: unknown, role: string): void {
  if (role !== 'user') checks.fail(path, 'function responses may only appear in "user" contents');
  if (!checks.object(path, value)) return;
  checks.onlyKeys(path, value, ['id', 'name', 'response', 'parts', 'willContinue', 'scheduling']);
  checks.string(at(path, 'name'), value.name, { pattern: FUNCTION_NAME });
  if (value.response === undefined) checks.fail(at(path, 'response'), 'is required');
  else checks.object(at(path, 'response'), value.response);
  if (value.id !== undefined) checks.string(at(path, 'id'), value.id);
}

function checkBlob(checks: RequestChecks, path: string, value: unknown): void {
  if (!checks.object(path, value)) return;
  checks.onlyKeys(path, value, ['mimeType', 'data', 'displayName']);
  checks.string(at(path, 'mimeType'), value.mimeType);
  checks.string(at(path, 'data'), value.data, { pattern: /^[A-Za-z0-9+/_=-]*$/ });
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
  if (!checks.array('systemInstruction.parts', value.parts, { nonEmpty: true })) return '';
  const texts: string[] = [];
  value.parts.forEach((part, i) => {
    const path = at('systemInstruction.parts', i);
    if (!checks.object(path, part)) return;
    checks.onlyKeys(path, part, ['text']);
    if (checks.string(at(path, 'text'), part.text)) texts.push(part.text);
  });
  return texts.join('\n');
}

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

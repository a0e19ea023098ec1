import {
  type DocumentNode,
  execute,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLFieldResolver,
  getOperationAST,
  getVariableValues,
  Kind,
  NoDeprecatedCustomRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import type { Caller } from '../auth.js';
import type { ShapeContext } from '../shapes.js';
import { GitHubGraphqlError } from './connection.js';
import { checkGitHubLimits } from './limits.js';
import { queryRoot } from './objects.js';
import { githubSchema } from './schema.js';

/**
 * `POST /graphql` (`/api/graphql` on GitHub Enterprise Server). Every query is parsed and validated
 * against GitHub's published schema — the spec's rules, deprecated fields refused, GitHub's
 * pagination and node limits — with its variables coerced; then executed against the fake's state.
 * Whatever GitHub would reject, and whatever the fake does not implement, is answered with a
 * GraphQL error AND returned in `problems`, which the dispatcher records as violations.
 */

export interface GraphqlOutcome {
  status: number;
  body: unknown;
  /** Protocol violations by the client (or gaps in the fake); empty for a good request. */
  problems: string[];
  operationName?: string;
}

const RULES = [...specifiedRules, NoDeprecatedCustomRule];
const BODY_KEYS = new Set(['query', 'variables', 'operationName']);

export async function handleGraphql(
  input: { method: string; body: unknown; caller: Caller },
  shapes: ShapeContext,
): Promise<GraphqlOutcome> {
  const fail = (status: number, message: string): GraphqlOutcome => ({
    status,
    body: { message, documentation_url: 'https://docs.github.com/graphql' },
    problems: [message],
  });
  if (input.method !== 'POST') return fail(404, `GraphQL takes POST, not ${input.method}`);
  const { caller } = input;
  if (caller.kind === 'anonymous') return fail(401, 'This endpoint requires you to be authenticated.');
  if (caller.kind === 'invalid') return fail(401, `Bad credentials: ${caller.reason}`);
  if (caller.kind !== 'installation')
    return fail(401, 'GraphQL takes an installation token here, not an app JWT');
  const body = input.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return fail(400, 'Problems parsing JSON: the body must be an object with a `query`');
  const request = body as Record<string, unknown>;
  const extra = Object.keys(request).filter((k) => !BODY_KEYS.has(k));
  if (typeof request.query !== 'string' || request.query.trim() === '')
    return fail(400, 'A query attribute must be specified and must be a string.');
  if (extra.length) return fail(400, `unexpected keys in the GraphQL request body: ${extra.join(', ')}`);
  const variables = request.variables ?? {};
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables))
    return fail(400, '`variables` must be an object');
  const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;

  const errorsOnly = (errors: readonly { message: string }[], extraProblems: string[] = []) => ({
    status: 200,
    body: { errors: errors.map(format) },
    problems: [...errors.map((e) => e.message), ...extraProblems],
    ...(operationName ? { operationName } : {}),
  });

  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (error) {
    return errorsOnly([error as GraphQLError]);
  }
  const schema = githubSchema();
  const invalid = validate(schema, document, RULES);
  if (invalid.length) return errorsOnly(invalid);
  const operation = getOperationAST(document, operationName);
  if (!operation)
    return errorsOnly([{ message: 'No operation given, or it is ambiguous: set operationName' }]);
  const coerced = getVariableValues(
    schema,
    operation.variableDefinitions ?? [],
    variables as Record<string, unknown>,
  );
  if (coerced.errors) return errorsOnly(coerced.errors);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const limits = checkGitHubLimits(schema, operation, fragments, coerced.coerced);
  if (limits.errors.length) return errorsOnly(limits.errors);
  if (operation.operation !== 'query') {
    return errorsOnly([{ message: `the fake serves queries only, not a ${operation.operation}` }]);
  }

  const unimplemented = new Set<string>();
  const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, _context, info) => {
    const obj = source as Record<string, unknown>;
    if (!(info.fieldName in obj)) {
      const what = `${info.parentType.name}.${info.fieldName}`;
      unimplemented.add(what);
      throw new GitHubGraphqlError('FAKE_UNIMPLEMENTED', `fake GitHub: ${what} is not implemented`, true);
    }
    const value = obj[info.fieldName];
    return typeof value === 'function' ? value.call(obj, args) : value;
  };
  const result = await execute({
    schema,
    document,
    rootValue: queryRoot({
      shapes,
      canSee: (repo) =>
        caller.token.installationId === repo.installationId &&
        (!caller.token.repositories || caller.token.repositories.includes(repo.fullName.toLowerCase())),
    }),
    variableValues: variables as Record<string, unknown>,
    ...(operationName ? { operationName } : {}),
    fieldResolver,
    typeResolver: (value) => (value as { __typename?: string }).__typename,
  });
  const problems: string[] = [];
  for (const error of result.errors ?? []) {
    const original = error.originalError;
    // NOT_FOUND and the like are GitHub's answers about the data, not mistakes in the query.
    if (original instanceof GitHubGraphqlError) {
      if (original.violation) problems.push(error.message);
    } else {
      problems.push(
        `fake crashed resolving ${error.path?.join('.') ?? '?'}: ${original?.stack ?? error.message}`,
      );
    }
  }
  return {
    status: 200,
    body: {
      data: result.data ?? null,
      ...(result.errors?.length ? { errors: result.errors.map(format) } : {}),
    },
    problems,
    ...(operationName ? { operationName } : {}),
  };
}

/** GitHub's error shape: `type` (when it has one), `path`, `locations`, `message`. */
function format(error: {
  message: string;
  path?: readonly (string | number)[] | undefined;
  locations?: readonly { line: number; column: number }[] | undefined;
  originalError?: unknown;
  type?: string;
}) {
  const original = error.originalError;
  const type = original instanceof GitHubGraphqlError ? original.type : error.type;
  return {
    ...(type ? { type } : {}),
    ...(error.path?.length ? { path: error.path } : {}),
    ...(error.locations?.length ? { locations: error.locations } : {}),
    message: error.message,
  };
}

import { readFileSync } from 'node:fs';
import { buildClientSchema, type GraphQLSchema } from 'graphql';

/**
 * GitHub's published GraphQL schema (@octokit/graphql-schema's introspection JSON), built once per
 * process (~0.2 s). The package's SDL file defines some fields twice, so the JSON is the one that
 * builds; the package exports only its index, so the file is found next to it.
 */
let built: GraphQLSchema | undefined;

export function githubSchema(): GraphQLSchema {
  if (!built) {
    const index = import.meta.resolve('@octokit/graphql-schema');
    const json = JSON.parse(readFileSync(new URL('./schema.json', index), 'utf8'));
    built = buildClientSchema(json.data ?? json);
  }
  return built;
}

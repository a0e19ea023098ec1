import {
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
} from 'graphql';

/**
 * GitHub's own query rules on top of the GraphQL spec, checked before execution as GitHub does:
 * every connection needs `first` or `last` (not both), at most 100, and a query may ask for at
 * most 500,000 nodes in all (each connection's page size times the page sizes above it).
 */

export const MAX_PAGE_SIZE = 100;
export const MAX_NODES = 500_000;

export interface GitHubQueryError {
  type: string;
  message: string;
  path: string[];
}

export function checkGitHubLimits(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): { errors: GitHubQueryError[]; nodes: number } {
  const errors: GitHubQueryError[] = [];
  let nodes = 0;
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();

  const walk = (
    set: SelectionSetNode | undefined,
    parent: GraphQLNamedType | null | undefined,
    multiplier: number,
    path: string[],
    seen: ReadonlySet<string>,
  ): void => {
    if (!set || !parent) return;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        walk(selection.selectionSet, type, multiplier, path, seen);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        walk(fragment.selectionSet, type, multiplier, path, new Set([...seen, name]));
        continue;
      }
      const name = selection.name.value;
      if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) continue;
      const field: GraphQLField<unknown, unknown> | undefined = parent.getFields()[name];
      if (!field) continue;
      const here = [...path, selection.alias?.value ?? name];
      const type = getNamedType(field.type);
      let childMultiplier = multiplier;
      if (isConnection(type)) {
        const arg = (argName: string): number | null | undefined => {
          const def = field.args.find((a) => a.name === argName);
          const node = selection.arguments?.find((a) => a.name.value === argName);
          if (!def || !node) return undefined;
          return valueFromAST(node.value, def.type, variables) as number | null | undefined;
        };
        const first = arg('first');
        const last = arg('last');
        const given = first ?? last;
        if (given === undefined || given === null) {
          errors.push({
            type: 'MISSING_PAGINATION_BOUNDARIES',
            message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
            path: here,
          });
        } else if (first !== undefined && first !== null && last !== undefined && last !== null) {
          errors.push({
            type: 'INVALID_PAGINATION',
            message: `Passing both \`first\` and \`last\` to paginate the \`${name}\` connection is not supported.`,
            path: here,
          });
        } else {
          const which = first !== undefined && first !== null ? 'first' : 'last';
          if (given > MAX_PAGE_SIZE) {
            errors.push({
              type: 'EXCESSIVE_PAGINATION',
              message: `Requesting ${given} records on the \`${name}\` connection exceeds the \`${which}\` limit of ${MAX_PAGE_SIZE} records.`,
              path: here,
            });
          } else if (given < 0) {
            errors.push({
              type: 'INVALID_PAGINATION',
              message: `\`${which}\` on the \`${name}\` connection cannot be less than zero.`,
              path: here,
            });
          }
          childMultiplier = multiplier * Math.max(0, Math.min(given, MAX_PAGE_SIZE));
          nodes += childMultiplier;
        }
      }
      walk(selection.selectionSet, type, childMultiplier, here, seen);
    }
  };
  walk(operation.selectionSet, root, 1, [], new Set());
  if (nodes > MAX_NODES) {
    errors.push({
      type: 'MAX_NODE_LIMIT_EXCEEDED',
      message: `This query requests up to ${nodes.toLocaleString('en-US')} possible nodes which exceeds the maximum limit of ${MAX_NODES.toLocaleString('en-US')}.`,
      path: [],
    });
  }
  return { errors, nodes };
}

function isConnection(type: GraphQLNamedType): boolean {
  return isObjectType(type) && type.name.endsWith('Connection') && 'pageInfo' in type.getFields();
}

import {
  FieldNode,
  GraphQLError,
  Kind,
  OperationDefinitionNode,
  SelectionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  ValueNode,
} from 'graphql';

/**
 * Validation rules that refuse a query before any resolver runs if it is too
 * deep or would fetch too much. Both are static estimates from the document:
 * validation sees no variable values, so a page size given as a variable
 * counts as its declared default, or `unknownListSize` without one. Resolvers
 * must still cap page sizes themselves.
 */

/** `extensions.code` of a refused query. */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/** Arguments taken as the number of items a list field returns. */
const LIST_SIZE_ARGUMENTS = new Set(['first', 'last', 'limit']);

/** Limits for `queryLimitRules`. */
export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  /** Multiplier of a list field whose size is a variable without a default. Default 1. */
  unknownListSize?: number;
}

/** Options of `maxCostRule`. */
export interface MaxCostOptions {
  /** Multiplier of a list field whose size is a variable without a default. Default 1. */
  unknownListSize?: number;
}

/**
 * Refuses an operation nested more than `maxDepth` fields deep. `{ a { b } }`
 * has depth 2; fragments, spread or inline, add no level of their own.
 */
export function maxDepthRule(maxDepth: number): ValidationRule {
  assertLimit('maxDepth', maxDepth);
  return (context) => ({
    OperationDefinition(operation) {
      const measure = measurer(context, {
        field: (_field, inner) => 1 + inner,
        siblings: (values) => values.reduce((max, value) => Math.max(max, value), 0),
      });
      const depth = measure(operation.selectionSet);
      if (depth > maxDepth)
        context.reportError(tooComplex(`Query depth ${depth} exceeds the limit of ${maxDepth}`, operation, maxDepth, depth));
      // The measure walked the operation already; nothing below needs a visit.
      return false;
    },
  });
}

/**
 * Refuses an operation whose estimated cost exceeds `maxCost`. Each field
 * costs 1; a field with an integer `first`, `last` or `limit` argument
 * multiplies the cost of its selections by that number (the largest, if
 * several), since they are resolved once per item.
 */
export function maxCostRule(maxCost: number, options: MaxCostOptions = {}): ValidationRule {
  assertLimit('maxCost', maxCost);
  const unknownListSize = options.unknownListSize ?? 1;
  return (context) => ({
    OperationDefinition(operation) {
      const defaults = variableDefaults(operation);
      const measure = measurer(context, {
        field: (field, inner) => 1 + listSize(field, defaults, unknownListSize) * inner,
        siblings: (values) => values.reduce((sum, value) => sum + value, 0),
      });
      const cost = measure(operation.selectionSet);
      if (cost > maxCost) {
        const shown = Math.min(cost, Number.MAX_SAFE_INTEGER);
        context.reportError(tooComplex(`Query cost ${shown} exceeds the limit of ${maxCost}`, operation, maxCost, shown));
      }
      return false;
    },
  });
}

/** Both rules, to spread into the server's `validationRules`. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [maxDepthRule(limits.maxDepth), maxCostRule(limits.maxCost, { unknownListSize: limits.unknownListSize })];
}

interface Measure {
  field(node: FieldNode, inner: number): number;
  siblings(values: number[]): number;
}

/**
 * A function measuring a selection set, following fragment spreads. Each
 * fragment is measured once per operation (its value does not depend on where
 * it is spread), so a document spreading fragments into each other many times
 * costs linear time, not exponential. A spread of a fragment already being
 * measured counts 0: NoFragmentCyclesRule reports the cycle, this rule must
 * only not loop forever on it.
 */
function measurer(context: ValidationContext, measure: Measure): (set: SelectionSetNode) => number {
  const fragments = new Map<string, number>();
  const inProgress = new Set<string>();

  const selectionSet = (set: SelectionSetNode | undefined): number => (set ? measure.siblings(set.selections.map(selection)) : 0);

  const fragment = (name: string): number => {
    const known = fragments.get(name);
    if (known !== undefined) return known;
    const definition = context.getFragment(name);
    if (!definition || inProgress.has(name)) return 0;
    inProgress.add(name);
    const value = selectionSet(definition.selectionSet);
    inProgress.delete(name);
    fragments.set(name, value);
    return value;
  };

  const selection = (node: SelectionNode): number => {
    switch (node.kind) {
      case Kind.FIELD:
        return measure.field(node, selectionSet(node.selectionSet));
      case Kind.INLINE_FRAGMENT:
        return selectionSet(node.selectionSet);
      case Kind.FRAGMENT_SPREAD:
        return fragment(node.name.value);
      default:
        return unreachable(node);
    }
  };

  return selectionSet;
}

function listSize(field: FieldNode, defaults: Map<string, ValueNode>, unknownListSize: number): number {
  let size: number | undefined;
  for (const argument of field.arguments ?? []) {
    if (!LIST_SIZE_ARGUMENTS.has(argument.name.value)) continue;
    const value = argument.value.kind === Kind.VARIABLE ? defaults.get(argument.value.name.value) : argument.value;
    const items = value === undefined ? unknownListSize : value.kind === Kind.INT ? Number(value.value) : undefined;
    if (items !== undefined) size = Math.max(size ?? 0, items);
  }
  // A negative page size fetches nothing; let the resolver refuse it.
  return Math.max(size ?? 1, 0);
}

function variableDefaults(operation: OperationDefinitionNode): Map<string, ValueNode> {
  const defaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }
  return defaults;
}

function tooComplex(message: string, operation: OperationDefinitionNode, limit: number, actual: number): GraphQLError {
  return new GraphQLError(message, { nodes: [operation], extensions: { code: QUERY_TOO_COMPLEX, limit, actual } });
}

function assertLimit(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
}

function unreachable(value: never): never {
  throw new Error(`unexpected selection ${JSON.stringify(value)}`);
}

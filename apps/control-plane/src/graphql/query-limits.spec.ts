import { buildSchema, GraphQLError, parse, specifiedRules, validate, ValidationRule } from 'graphql';
import { maxCostRule, maxDepthRule, QUERY_TOO_COMPLEX, queryLimitRules } from './query-limits';

const schema = buildSchema(`
  type Query {
    apis(first: Int, last: Int): [Api!]!
    api(id: ID!): Api
    viewer: User
  }
  type Api {
    id: ID!
    name: String!
    plans(limit: Int): [Plan!]!
    owner: User
  }
  type Plan {
    id: ID!
    name: String!
    api: Api!
  }
  type User {
    id: ID!
    apis(first: Int): [Api!]!
  }
`);

function errors(query: string, ...rules: ValidationRule[]): readonly GraphQLError[] {
  return validate(schema, parse(query), rules);
}

function messages(query: string, ...rules: ValidationRule[]): string[] {
  return errors(query, ...rules).map((error) => error.message);
}

// A fragment chain where each fragment spreads the next twice: 2^links fields once expanded.
function fragmentBomb(links: number): string {
  const fragments = Array.from({ length: links }, (_, i) => `fragment F${i} on Api { ...F${i + 1} ...F${i + 1} }`);
  return `{ api(id: 1) { ...F0 } } ${fragments.join(' ')} fragment F${links} on Api { id }`;
}

describe('maxDepthRule', () => {
  const sixDeep = '{ api(id: 1) { owner { apis { plans { api { id } } } } } }';

  it('accepts a query at the limit', () => {
    expect(messages(sixDeep, maxDepthRule(6))).toEqual([]);
  });

  it('refuses a query one level deeper than the limit, with code QUERY_TOO_COMPLEX', () => {
    const [error, ...others] = errors(sixDeep, maxDepthRule(5));
    expect(others).toEqual([]);
    expect(error?.message).toBe('Query depth 6 exceeds the limit of 5');
    expect(error?.extensions).toEqual({ code: QUERY_TOO_COMPLEX, limit: 5, actual: 6 });
    expect(error?.locations).toEqual([{ line: 1, column: 1 }]);
  });

  it('follows fragment spreads and inline fragments, which add no level of their own', () => {
    const query = `
      { api(id: 1) { ...WithOwner } }
      fragment WithOwner on Api { owner { ... on User { apis { ...Plans } } } }
      fragment Plans on Api { plans { api { id } } }
    `;
    expect(messages(query, maxDepthRule(6))).toEqual([]);
    expect(messages(query, maxDepthRule(5))).toEqual(['Query depth 6 exceeds the limit of 5']);
  });

  it('takes the deepest branch', () => {
    const query = '{ viewer { id } api(id: 1) { owner { apis { id } } } apis { id } }';
    expect(messages(query, maxDepthRule(4))).toEqual([]);
    expect(messages(query, maxDepthRule(3))).toEqual(['Query depth 4 exceeds the limit of 3']);
  });

  it('stops on fragment cycles, which the standard rules report', () => {
    const query = `
      { api(id: 1) { ...A } }
      fragment A on Api { owner { apis { ...B } } }
      fragment B on Api { plans { api { ...A } } }
    `;
    expect(messages(query, maxDepthRule(10))).toEqual([]);
    expect(messages(query, maxDepthRule(4))).toEqual(['Query depth 5 exceeds the limit of 4']);
    const all = messages(query, ...specifiedRules, maxDepthRule(10));
    expect(all.some((message) => message.startsWith('Cannot spread fragment "A" within itself'))).toBe(true);
  });

  it('measures a fragment bomb in linear time', () => {
    expect(messages(fragmentBomb(40), maxDepthRule(3))).toEqual([]);
  });

  it('checks each operation of a document apart', () => {
    const query = `query Shallow { viewer { id } } query Deep ${sixDeep}`;
    expect(messages(query, maxDepthRule(5))).toEqual(['Query depth 6 exceeds the limit of 5']);
  });

  it('counts introspection fields like any other', () => {
    expect(messages('{ __schema { types { fields { type { name } } } } }', maxDepthRule(5))).toEqual([]);
    expect(messages('{ __schema { types { fields { type { ofType { name } } } } } }', maxDepthRule(5))).toEqual([
      'Query depth 6 exceeds the limit of 5',
    ]);
  });
});

describe('maxCostRule', () => {
  it('counts 1 per field', () => {
    expect(messages('{ viewer { id } api(id: 1) { id name } }', maxCostRule(5))).toEqual([]);
    expect(messages('{ viewer { id } api(id: 1) { id name } }', maxCostRule(4))).toEqual(['Query cost 5 exceeds the limit of 4']);
  });

  it('multiplies the selections of a list field by its first, last or limit argument', () => {
    // apis: 1 + 10 × (id + name) = 21
    expect(messages('{ apis(first: 10) { id name } }', maxCostRule(20))).toEqual(['Query cost 21 exceeds the limit of 20']);
    expect(messages('{ apis(last: 10) { id name } }', maxCostRule(21))).toEqual([]);
    // apis: 1 + 10 × (id + plans: 1 + 5 × name) = 71
    expect(messages('{ apis(first: 10) { id plans(limit: 5) { name } } }', maxCostRule(70))).toEqual([
      'Query cost 71 exceeds the limit of 70',
    ]);
  });

  it('takes the largest size when a field has several', () => {
    expect(messages('{ apis(first: 3, last: 7) { id } }', maxCostRule(7))).toEqual(['Query cost 8 exceeds the limit of 7']);
  });

  it('multiplies by 1 without a size, and by 0 for a size of 0 or less', () => {
    expect(messages('{ apis { id name } }', maxCostRule(3))).toEqual([]);
    expect(messages('{ apis(first: 0) { id name } }', maxCostRule(1))).toEqual([]);
    expect(messages('{ apis(first: -5) { id name } }', maxCostRule(1))).toEqual([]);
  });

  it('counts fragments at every place they are spread, with the multiplier of that place', () => {
    const query = `
      { apis(first: 10) { ...Summary } api(id: 1) { ...Summary } }
      fragment Summary on Api { id ... on Api { name } }
    `;
    // apis: 1 + 10 × 2 = 21; api: 1 + 2 = 3
    expect(messages(query, maxCostRule(23))).toEqual(['Query cost 24 exceeds the limit of 23']);
  });

  it('reads a size given as a variable from its default, or as unknownListSize without one', () => {
    expect(messages('query ($n: Int = 50) { apis(first: $n) { id } }', maxCostRule(50))).toEqual(['Query cost 51 exceeds the limit of 50']);
    expect(messages('query ($n: Int) { apis(first: $n) { id } }', maxCostRule(2))).toEqual([]);
    expect(messages('query ($n: Int) { apis(first: $n) { id } }', maxCostRule(100, { unknownListSize: 100 }))).toEqual([
      'Query cost 101 exceeds the limit of 100',
    ]);
  });

  it('stops on fragment cycles', () => {
    const query = '{ api(id: 1) { ...A } } fragment A on Api { owner { apis(first: 2) { ...A } } }';
    expect(messages(query, maxCostRule(100))).toEqual([]);
  });

  it('refuses a fragment bomb quickly', () => {
    const [error] = errors(fragmentBomb(40), maxCostRule(1000));
    expect(error?.message).toBe(`Query cost ${1 + 2 ** 40} exceeds the limit of 1000`);
    expect(error?.extensions.code).toBe(QUERY_TOO_COMPLEX);
  });
});

describe('queryLimitRules', () => {
  it('applies both limits', () => {
    const rules = queryLimitRules({ maxDepth: 2, maxCost: 10 });
    expect(rules).toHaveLength(2);
    expect(messages('{ apis(first: 100) { owner { id } } }', ...rules)).toEqual([
      'Query depth 3 exceeds the limit of 2',
      'Query cost 201 exceeds the limit of 10',
    ]);
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => maxDepthRule(0)).toThrow('maxDepth must be a positive integer');
    expect(() => maxCostRule(1.5)).toThrow('maxCost must be a positive integer');
  });
});

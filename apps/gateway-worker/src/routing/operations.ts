/** An operation of an API as the events carry it: method (or `*`), path template, auth scheme. */
export interface OperationRoute {
  method: string;
  path: string;
  auth: 'none' | 'apikey' | 'oauth2';
}

export interface MatchedOperation {
  operation: OperationRoute;
}

interface CompiledOperation {
  operation: OperationRoute;
  /** Literal segments, `null` for a `{param}` segment. */
  segments: (string | null)[];
  /** Ends in `/*`: matches any further segments, none included. */
  catchAll: boolean;
  /** Higher is more specific: literal segments count most, then parameters, then an explicit method. */
  rank: number;
}

/**
 * Compiles an API's operations into a matcher that picks the most specific
 * operation for a method and a path: literal segments beat `{param}`, which
 * beats the catch-all `/*`; an explicit method beats `*`. Ties keep the
 * publisher's order.
 */
export function compileOperations(operations: readonly OperationRoute[]): (method: string, rest: string) => MatchedOperation | undefined {
  const compiled: CompiledOperation[] = operations.map((operation) => {
    const parts = operation.path === '/' ? [] : operation.path.slice(1).split('/');
    const catchAll = parts[parts.length - 1] === '*';
    if (catchAll) parts.pop();
    const segments = parts.map((part) => (part.startsWith('{') && part.endsWith('}') ? null : part));
    const literals = segments.filter((s) => s !== null).length;
    const rank = literals * 1000 + segments.length * 10 + (catchAll ? 0 : 5) + (operation.method === '*' ? 0 : 1);
    return { operation, segments, catchAll, rank };
  });
  const ordered = compiled
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => b.entry.rank - a.entry.rank || a.index - b.index)
    .map(({ entry }) => entry);

  return (method, rest) => {
    // `rest` starts with '/'; '/' alone has no segments, and a trailing '/' is not a segment of its own.
    const trimmed = rest.length > 1 && rest.endsWith('/') ? rest.slice(0, -1) : rest;
    const segments = trimmed === '/' ? [] : trimmed.slice(1).split('/');
    for (const candidate of ordered) {
      const allowed = candidate.operation.method;
      // HEAD is GET without a body (RFC 9110 §9.3.2): a GET operation answers it.
      if (allowed !== '*' && allowed !== method && !(method === 'HEAD' && allowed === 'GET')) continue;
      if (matches(candidate, segments)) return { operation: candidate.operation };
    }
    return undefined;
  };
}

function matches(candidate: CompiledOperation, segments: string[]): boolean {
  const { segments: template, catchAll } = candidate;
  if (catchAll ? segments.length < template.length : segments.length !== template.length) return false;
  for (let i = 0; i < template.length; i++) {
    const literal = template[i];
    if (literal === null ? segments[i] === '' : literal !== segments[i]) return false;
  }
  return true;
}

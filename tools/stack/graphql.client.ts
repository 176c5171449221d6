/** A GraphQL error as the control plane sends it (`extensions.code`, and often a stable `reason`). */
export interface GqlError {
  message: string;
  extensions?: { code?: string; reason?: string; primary?: string; fields?: string[] };
}

/** An operation the control plane refused, with its code and reason. */
export class GqlRefused extends Error {
  constructor(
    readonly url: string,
    readonly errors: GqlError[],
  ) {
    const [first] = errors;
    super(`${url}: ${first.extensions?.code ?? 'ERROR'}${first.extensions?.reason ? ` ${first.extensions.reason}` : ''}: ${first.message}`);
  }

  get code(): string | undefined {
    return this.errors[0].extensions?.code;
  }

  get reason(): string | undefined {
    return this.errors[0].extensions?.reason;
  }
}

/** One control plane's public GraphQL endpoint, as any client sees it: JSON over HTTP, a bearer token after `login`. */
export class GraphQlClient {
  constructor(
    /** The control plane's base URL, e.g. `http://127.0.0.1:4000`. */
    readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The raw answer: `data` and `errors` both, for callers that check refusals. */
  async gql<T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<{ data?: T | null; errors?: GqlError[] }> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return (await response.json()) as { data?: T | null; errors?: GqlError[] };
  }

  /** Runs an operation that must succeed; a refusal throws `GqlRefused`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers name the shape they expect
  async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
    const result = await this.gql<T>(query, variables, token);
    if (result.errors?.length) throw new GqlRefused(this.url, result.errors);
    return result.data as T;
  }

  /**
   * Signs in once. Never call it in a polling loop: the control plane counts
   * failed logins per username and refuses the right password for minutes
   * after `LOGIN_MAX_ATTEMPTS` (5) failures.
   */
  async login(username: string, password: string): Promise<string> {
    const data = await this.ok<{ login: { accessToken: string } }>(
      `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`,
      { u: username, p: password },
    );
    return data.login.accessToken;
  }

  async signUp(username: string, password: string): Promise<string> {
    const data = await this.ok<{ signUp: { accessToken: string } }>(
      `mutation($u: String!, $p: String!) { signUp(username: $u, password: $p) { accessToken } }`,
      { u: username, p: password },
    );
    return data.signUp.accessToken;
  }
}

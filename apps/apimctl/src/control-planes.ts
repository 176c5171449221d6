import { existsSync, readFileSync } from 'node:fs';

/** Exit codes scripts can rely on (also in `apimctl --help`). */
export const EXIT = {
  ok: 0,
  /** Bad usage or configuration: a missing endpoint, password or argument. */
  usage: 2,
  /** A control plane could not be reached (or answered garbage). */
  unreachable: 3,
  /** A control plane refused the operation (the GraphQL error code is printed). */
  refused: 4,
  /** The DCs disagree: on the primary or the epoch (status), on the divergent events (divergent). */
  disagree: 5,
  /** A switchover did not complete in time (the old primary stays fenced: read-only). */
  timeout: 6,
} as const;

export class CtlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The GraphQL error code, when a control plane refused. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface GraphQlError {
  message: string;
  extensions?: { code?: string };
}

/** One DC's control plane, logged in as an ADMIN on first use. */
export class ControlPlaneClient {
  private token?: string;

  constructor(
    readonly dc: string,
    readonly url: string,
    private readonly credentials: { username: string; password: string },
    private readonly timeoutMs: number,
  ) {}

  /** Runs an operation; a GraphQL error becomes CtlError(refused), a network failure CtlError(unreachable). */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    if (!this.token) await this.login();
    try {
      return await this.post<T>(query, variables, this.token);
    } catch (error) {
      // Access tokens expire (lag --watch runs for hours): log in again, once.
      if (!(error instanceof CtlError) || error.code !== 'UNAUTHENTICATED') throw error;
      await this.login();
      return this.post<T>(query, variables, this.token);
    }
  }

  private async login(): Promise<void> {
    const data = await this.post<{ login: { accessToken: string } }>(
      `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`,
      { u: this.credentials.username, p: this.credentials.password },
    );
    this.token = data.login.accessToken;
  }

  private async post<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const why = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
      throw new CtlError(`${this.dc}: control plane at ${this.url} is unreachable (${why})`, EXIT.unreachable);
    }
    let body: { data?: T | null; errors?: GraphQlError[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new CtlError(`${this.dc}: ${this.url}/graphql answered HTTP ${response.status} without a GraphQL body`, EXIT.unreachable);
    }
    if (body.errors?.length) {
      const [first] = body.errors;
      throw new CtlError(`${this.dc}: ${first.extensions?.code ?? 'ERROR'}: ${first.message}`, EXIT.refused, first.extensions?.code);
    }
    return body.data as T;
  }
}

/**
 * The control planes to talk to: `--endpoints dc1=url,dc2=url`, else
 * `APIMCTL_ENDPOINTS`, else the local stack's `.run/stack.json`.
 */
export function resolveEndpoints(flag: string | undefined, env: NodeJS.ProcessEnv, stackFile: string): Map<string, string> {
  const given = flag ?? env.APIMCTL_ENDPOINTS;
  if (given) {
    const endpoints = new Map<string, string>();
    for (const entry of given.split(',').filter(Boolean)) {
      const match = /^([a-z][a-z0-9]{0,15})=(https?:\/\/[^\s,]+)$/.exec(entry.trim());
      if (!match) throw new CtlError(`endpoint "${entry}" must look like dc1=http://host:port`, EXIT.usage);
      endpoints.set(match[1], match[2].replace(/\/+$/, ''));
    }
    return endpoints;
  }
  if (existsSync(stackFile)) {
    const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as { dcs: { dc: string; controlPlane: string }[] };
    return new Map(stack.dcs.map((dc) => [dc.dc, dc.controlPlane]));
  }
  throw new CtlError(`no control planes: pass --endpoints dc1=http://host:port,..., set APIMCTL_ENDPOINTS, or run npm start`, EXIT.usage);
}

/** ADMIN credentials from the environment only: a password on the command line ends up in shell history and `ps`. */
export function resolveCredentials(env: NodeJS.ProcessEnv): { username: string; password: string } {
  const username = env.APIMCTL_USER ?? env.APIM_ADMIN_USER;
  const password = env.APIMCTL_PASSWORD ?? env.APIM_ADMIN_PASSWORD;
  if (!username || !password) throw new CtlError('set APIMCTL_USER and APIMCTL_PASSWORD (an ADMIN of the control planes)', EXIT.usage);
  return { username, password };
}

/** One DC's answer to a query asked of every DC, or why it could not be asked. */
export type Answer<T> =
  { dc: string; url: string; reachable: true; data: T } | { dc: string; url: string; reachable: false; error: string };

/**
 * Asks every control plane at once; an unreachable one is an answer, not a
 * failure. A refusal (wrong credentials, not an ADMIN) ends the command.
 */
export async function askAll<T>(clients: ControlPlaneClient[], query: string): Promise<Answer<T>[]> {
  return askEach(clients, (client) => client.request<T>(query));
}

/** As askAll, with what is asked of each control plane written by the caller (several requests: pages). */
export async function askEach<T>(clients: ControlPlaneClient[], ask: (client: ControlPlaneClient) => Promise<T>): Promise<Answer<T>[]> {
  return Promise.all(
    clients.map(async (client): Promise<Answer<T>> => {
      try {
        return { dc: client.dc, url: client.url, reachable: true, data: await ask(client) };
      } catch (error) {
        if (error instanceof CtlError && error.exitCode === EXIT.refused) throw error;
        return { dc: client.dc, url: client.url, reachable: false, error: (error as Error).message };
      }
    }),
  );
}

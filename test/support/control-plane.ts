import { freePort } from '../../tools/infra/free-port';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { startAppProcess, TEST_SECRET_KEY, waitForHttp } from './apps';
import { TestDatabase } from './databases';
import { testBrokers } from './test-env';

export interface GqlResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; fields?: string[]; primary?: string; reason?: string } }[];
}

/** A control plane as a real process on a real port, with its own database, on the run's dc1 Kafka cluster. */
export class ControlPlane {
  process!: GuardedProcess;
  url = '';
  constructor(
    readonly db: TestDatabase,
    readonly logFile: string,
    readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.process = startAppProcess(
      'control-plane',
      {
        KAFKA_BROKERS: testBrokers('dc1').join(','),
        DATABASE_URL: this.db.url,
        PORT: String(port),
        APIM_SECRET_KEY: TEST_SECRET_KEY,
        GRAPHQL_MAX_DEPTH: '8',
        LOGIN_MAX_ATTEMPTS: '3',
        ...this.env,
      },
      this.logFile,
    );
    await waitForHttp(`${this.url}/healthz`);
  }

  async gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GqlResult<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GqlResult<T>;
  }

  /** Runs an operation that must succeed and returns its data. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test data, checked by the assertions
  async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
    const result = await this.gql<T>(query, variables, token);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  async login(username: string, password: string): Promise<string> {
    return (
      await this.ok(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`, {
        u: username,
        p: password,
      })
    ).login.accessToken;
  }

  async signUp(username: string, password: string): Promise<string> {
    return (
      await this.ok(`mutation($u: String!, $p: String!) { signUp(username: $u, password: $p) { accessToken } }`, {
        u: username,
        p: password,
      })
    ).signUp.accessToken;
  }
}

import { freePort } from '../../tools/infra/free-port';
import { GqlError, GraphQlClient } from '../../tools/stack/graphql.client';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { startAppProcess, TEST_SECRET_KEY, waitForHttp } from './apps';
import { TestDatabase } from './databases';
import { testBrokers } from './test-env';

export interface GqlResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: GqlError[];
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
    const exited = this.process.exited.then((code) => {
      throw new Error(`the control plane exited (code ${code}) before it answered; see ${this.logFile}`);
    });
    await Promise.race([waitForHttp(`${this.url}/healthz`), exited]);
    exited.catch(() => undefined);
  }

  /** The control plane's public GraphQL client (the one `npm start` and the e2e suite use). */
  private get client(): GraphQlClient {
    // The client's own 10 s bound is for an interactive tool; a test under a loaded CI waits as long as jest lets it.
    return new GraphQlClient(this.url, 120_000);
  }

  gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GqlResult<T>> {
    return this.client.gql<T>(query, variables, token);
  }

  /** Runs an operation that must succeed and returns its data. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test data, checked by the assertions
  ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
    return this.client.ok<T>(query, variables, token);
  }

  login(username: string, password: string): Promise<string> {
    return this.client.login(username, password);
  }

  /** One field of every API `apis` lists for `token`: their names or their contexts. */
  async apiFields(token: string, field: 'name' | 'context'): Promise<string[]> {
    return (await this.ok(`{ apis { ${field} } }`, {}, token)).apis.map((api: Record<typeof field, string>) => api[field]);
  }

  signUp(username: string, password: string): Promise<string> {
    return this.client.signUp(username, password);
  }
}

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { signUp, startTestServer, type DbTarget, type StartOptions, type TestServer } from './harness.js';

export type SignedUpUser = Awaited<ReturnType<typeof signUp>>;

/** A suite's server and its signed-in user; read them in tests and hooks, not at collection time. */
export interface SignedIn {
  readonly server: TestServer;
  readonly app: FastifyInstance;
  readonly user: SignedUpUser;
  /** The user's session cookie, as request headers. */
  readonly headers: { cookie: string };
}

/**
 * The setup most route suites share, registered on the calling `describe`: a real server on
 * `target` started before its tests (and disposed after) and one user signed up on it. A suite's
 * own `beforeAll`, registered after this call, runs after it and can seed through `app`.
 */
export function signedInSuite(target: DbTarget, extraEnv: Record<string, string> = {}, opts: StartOptions = {}): SignedIn {
  let server: TestServer | undefined;
  let user: SignedUpUser | undefined;
  beforeAll(async () => {
    server = await startTestServer(target, extraEnv, opts);
    user = await signUp(server.app);
  });
  afterAll(async () => server?.dispose());
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('signedInSuite: the server has not started (read it inside a test or hook)');
    return v;
  };
  return {
    get server() {
      return started(server);
    },
    get app() {
      return started(server).app;
    },
    get user() {
      return started(user);
    },
    get headers() {
      return started(user).headers;
    },
  };
}

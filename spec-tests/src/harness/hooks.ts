// node:test glue: one server per describe() block, or one per test.
import { after, afterEach, before } from 'node:test';
import { startServer, type StartOptions, type TestServer } from './server.js';

/** Node 20's runtime has `t.passed`, but @types/node 20 does not declare it. */
export function testFailed(t: unknown): boolean {
  return (t as { passed?: boolean }).passed === false;
}

/**
 * Registers before/after hooks in the current describe() that start one
 * server for the block and dispose of it afterwards; the server's output is
 * printed if any test in the block failed.
 */
export function useServer(opts: StartOptions = {}): { readonly server: TestServer } {
  let server: TestServer | undefined;
  let failed = false;
  before(async () => {
    server = await startServer(opts);
  });
  afterEach((t) => {
    if (testFailed(t)) failed = true;
  });
  after(async () => {
    if (server === undefined) return;
    if (failed) server.dumpLogs('a test in this block failed');
    await server.dispose();
  });
  return {
    get server(): TestServer {
      if (server === undefined) throw new Error('server not started (did the before hook fail?)');
      return server;
    },
  };
}

interface HasAfter {
  after(fn: () => unknown): void;
}

/** Starts a server owned by one test; disposed by t.after, output printed on failure. */
export async function serverForTest(t: HasAfter, opts: StartOptions = {}): Promise<TestServer> {
  const server = await startServer(opts);
  t.after(async () => {
    if (testFailed(t)) server.dumpLogs('test failed');
    await server.dispose();
  });
  return server;
}

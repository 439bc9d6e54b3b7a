// Mounts the federation package's routes (plain FederationRoute data, which cannot import
// the homeserver) as ordinary homeserver routes: same CORS, JSON parsing, error shape and
// X-Matrix check (auth 'server' → http/app.ts → ServerAuthenticator).
import type { FederationRoute } from '@parley/federation/api/route';
import { z } from 'zod';
import type { Route } from '../http/route.js';

// Spec: server-server-api.md "API standards" — every request body is a JSON object.
const objectBody = z.record(z.string(), z.unknown());
// Query values arrive as a string or, when repeated (make_join's `ver`), as an array.
const queryValues = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

export function mountFederationRoutes(routes: readonly FederationRoute[]): Route<unknown, unknown>[] {
  return routes.map((fr) => toRoute(fr));
}

function toRoute(fr: FederationRoute): Route<unknown, unknown> {
  const hasBody = fr.method === 'PUT' || fr.method === 'POST';
  const r: Route<Record<string, unknown> | undefined, Record<string, string | string[]>> = {
    method: fr.method,
    path: fr.path,
    auth: fr.auth,
    ...(hasBody ? { body: objectBody } : {}),
    query: queryValues,
    ...(fr.maxBodyBytes !== undefined ? { maxBodyBytes: fr.maxBodyBytes } : {}),
    spec: fr.spec,
    async handler(ctx) {
      const query: Record<string, string | undefined> = {};
      const queryAll: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(ctx.query)) {
        const all = Array.isArray(v) ? v : [v];
        queryAll[k] = all;
        query[k] = all[0];
      }
      const reply = await fr.handler({
        params: ctx.params,
        query,
        queryAll,
        body: ctx.body,
        ...(ctx.origin !== undefined ? { origin: ctx.origin } : {}),
      });
      return { status: reply.status ?? 200, body: reply.body, ...(reply.headers ? { headers: reply.headers } : {}) };
    },
  };
  return r as unknown as Route<unknown, unknown>;
}

// Synapse-compatible registration tokens admin API
// (docs/usage/administration/admin_api/registration_tokens.md).
import { z } from 'zod';
import type { RegistrationTokens } from '../../admin/registrationTokens.js';
import { ok, route } from '../../http/route.js';
import { adminOf, boolParam } from './adminAuth.js';

const BASE = '/_synapse/admin/v1/registration_tokens';
const SPEC = 'synapse admin API: registration_tokens.md';
const nullableInt = z.number().int().nullable().optional();

export function registrationTokenRoutes(deps: { tokens: RegistrationTokens }) {
  const { tokens } = deps;
  return [
    route({
      method: 'GET',
      path: BASE,
      auth: 'user',
      query: z.looseObject({ valid: z.string().optional() }),
      spec: `${SPEC} "List all tokens"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok({ registration_tokens: await tokens.list(boolParam('valid', ctx.query.valid)) });
      },
    }),
    route({
      method: 'POST',
      path: `${BASE}/new`,
      auth: 'user',
      body: z.looseObject({ token: z.string().optional(), uses_allowed: nullableInt, expiry_time: nullableInt, length: z.number().int().optional() }),
      spec: `${SPEC} "Create token"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await tokens.create(ctx.body));
      },
    }),
    route({
      method: 'GET',
      path: `${BASE}/{token}`,
      auth: 'user',
      spec: `${SPEC} "Get one token"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await tokens.get(ctx.params.token));
      },
    }),
    route({
      method: 'PUT',
      path: `${BASE}/{token}`,
      auth: 'user',
      body: z.looseObject({ uses_allowed: nullableInt, expiry_time: nullableInt }),
      spec: `${SPEC} "Update token"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await tokens.update(ctx.params.token, ctx.body));
      },
    }),
    route({
      method: 'DELETE',
      path: `${BASE}/{token}`,
      auth: 'user',
      spec: `${SPEC} "Delete token"`,
      async handler(ctx) {
        adminOf(ctx);
        await tokens.delete(ctx.params.token);
        return ok({});
      },
    }),
  ];
}

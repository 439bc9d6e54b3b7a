// Synapse-compatible user admin API (docs/admin_api/user_admin_api.md), plus the spec's
// GET /admin/whois (client-server-api/_index.md "Server administration": admins, or the user).
import { z } from 'zod';
import { USER_ORDERS, type AdminUsers } from '../../admin/adminUsers.js';
import type { RedactRequest, UserRedaction } from '../../admin/userRedaction.js';
import { forbidden, notFound } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import { MAX_PASSWORD_LENGTH } from '../../users/password.js';
import { adminOf, boolParam, dirParam, intParam, oneOf } from './adminAuth.js';

const ADMIN = '/_synapse/admin';
const SPEC = 'synapse admin API: docs/admin_api/user_admin_api.md';

const listQuery = z.looseObject({
  from: z.string().optional(),
  limit: z.string().optional(),
  user_id: z.string().optional(),
  name: z.string().optional(),
  guests: z.string().optional(),
  admins: z.string().optional(),
  deactivated: z.string().optional(),
  order_by: z.string().optional(),
  dir: z.string().optional(),
});

const upsertBody = z.looseObject({
  password: z.string().max(MAX_PASSWORD_LENGTH).optional(),
  logout_devices: z.boolean().optional(),
  displayname: z.string().nullable().optional(),
  avatar_url: z.string().nullable().optional(),
  admin: z.boolean().optional(),
  deactivated: z.boolean().optional(),
});

export function adminUserRoutes(deps: { users: AdminUsers; redaction: UserRedaction }) {
  const { users, redaction } = deps;
  return [
    route({
      method: 'GET',
      path: `${ADMIN}/v2/users`,
      auth: 'user',
      query: listQuery,
      spec: `${SPEC} "List Accounts (V2)"`,
      async handler(ctx) {
        adminOf(ctx);
        const q = ctx.query;
        boolParam('guests', q.guests);
        return ok(
          await users.list({
            from: intParam('from', q.from, 0),
            limit: intParam('limit', q.limit, 100),
            ...(q.user_id !== undefined ? { userIdContains: q.user_id } : {}),
            ...(q.name !== undefined ? { name: q.name } : {}),
            ...(q.admins !== undefined ? { admins: boolParam('admins', q.admins) } : {}),
            includeDeactivated: boolParam('deactivated', q.deactivated) ?? false,
            orderBy: oneOf('order_by', q.order_by, USER_ORDERS, 'name'),
            dir: dirParam(q.dir),
          }),
        );
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v2/users/{userId}`,
      auth: 'user',
      spec: `${SPEC} "Query User Account"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await users.query(ctx.params.userId));
      },
    }),
    route({
      method: 'PUT',
      path: `${ADMIN}/v2/users/{userId}`,
      auth: 'user',
      body: upsertBody,
      spec: `${SPEC} "Create or modify account"`,
      async handler(ctx) {
        const admin = adminOf(ctx);
        const res = await users.upsert(admin.userId, ctx.params.userId, ctx.body);
        return ok(res.user, res.created ? 201 : 200);
      },
    }),
    route({
      method: 'POST',
      path: `${ADMIN}/v1/deactivate/{userId}`,
      auth: 'user',
      body: z.looseObject({ erase: z.boolean().optional() }),
      spec: `${SPEC} "Deactivate Account"`,
      async handler(ctx) {
        adminOf(ctx);
        await users.deactivate(ctx.params.userId, ctx.body.erase ?? false);
        return ok({ id_server_unbind_result: 'success' });
      },
    }),
    route({
      method: 'POST',
      path: `${ADMIN}/v1/reset_password/{userId}`,
      auth: 'user',
      body: z.looseObject({ new_password: z.string().min(1).max(MAX_PASSWORD_LENGTH), logout_devices: z.boolean().optional() }),
      spec: `${SPEC} "Reset password"`,
      async handler(ctx) {
        adminOf(ctx);
        await users.resetPassword(ctx.params.userId, ctx.body.new_password, ctx.body.logout_devices ?? true);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v1/users/{userId}/admin`,
      auth: 'user',
      spec: `${SPEC} "Get whether a user is a server administrator or not"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok({ admin: await users.isAdmin(ctx.params.userId) });
      },
    }),
    route({
      method: 'PUT',
      path: `${ADMIN}/v1/users/{userId}/admin`,
      auth: 'user',
      body: z.looseObject({ admin: z.boolean() }),
      spec: `${SPEC} "Change whether a user is a server administrator or not"`,
      async handler(ctx) {
        const admin = adminOf(ctx);
        await users.setAdmin(admin.userId, ctx.params.userId, ctx.body.admin);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v1/whois/{userId}`,
      auth: 'user',
      spec: `${SPEC} "Query current sessions for a user"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await users.whois(ctx.params.userId));
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/admin/whois/{userId}',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3adminwhoisuserid',
      async handler(ctx) {
        const r = requesterOf(ctx);
        // Spec: server admins, or the user asking about themselves.
        if (!r.isAdmin && r.userId !== ctx.params.userId) throw forbidden('You are not a server admin');
        return ok(await users.whois(ctx.params.userId));
      },
    }),
    route({
      method: 'POST',
      path: `${ADMIN}/v1/user/{userId}/redact`,
      auth: 'user',
      body: z.looseObject({
        rooms: z.array(z.string()),
        reason: z.string().optional(),
        limit: z.number().int().positive().optional(),
        use_admin: z.boolean().optional(),
        after_ts: z.number().int().optional(),
        before_ts: z.number().int().optional(),
      }),
      spec: `${SPEC} "Redact events of a user"`,
      handler(ctx) {
        const admin = adminOf(ctx);
        const b = ctx.body;
        const req: RedactRequest = {
          rooms: b.rooms,
          limit: b.limit ?? 1000,
          useAdmin: b.use_admin ?? false,
          ...(b.reason !== undefined ? { reason: b.reason } : {}),
          ...(b.after_ts !== undefined ? { afterTs: b.after_ts } : {}),
          ...(b.before_ts !== undefined ? { beforeTs: b.before_ts } : {}),
        };
        return ok({ redact_id: redaction.start(admin, ctx.params.userId, req).id });
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v1/user/redact_status/{redactId}`,
      auth: 'user',
      spec: `${SPEC} "Check the status of a redaction process"`,
      handler(ctx) {
        adminOf(ctx);
        const task = redaction.tasks.get(ctx.params.redactId);
        if (!task) throw notFound('redaction id not found');
        // Synapse spells the end state 'completed' here (and 'complete' for room deletion).
        return ok({ status: task.status === 'complete' ? 'completed' : task.status, failed_redactions: task.result.failed_redactions, ...(task.error ? { error: task.error } : {}) });
      },
    }),
  ];
}

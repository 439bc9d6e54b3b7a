// Server-side key backups. Spec: client-server-api/modules/end_to_end_encryption.md
// "Server-side key backups"; key_backup.yaml.
import { z } from 'zod';
import type { JsonMap, KeyBackupService, RoomsKeys } from '@parley/e2ee';
import { missingParam } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import { anyObject, withE2eeErrors } from './e2eeShared.js';

export interface KeyBackupDeps {
  backup: KeyBackupService;
}

const BASE = '/_matrix/client/v3/room_keys';
const specOf = (op: string) => `client-server-api/_index.md#${op}`;

/** Spec: definitions/key_backup_data.yaml. */
const keyBackupData = z.looseObject({
  first_message_index: z.number().int().min(0),
  forwarded_count: z.number().int().min(0),
  is_verified: z.boolean(),
  session_data: anyObject,
});
/** Spec: definitions/room_key_backup.yaml. */
const roomKeyBackup = z.looseObject({ sessions: z.record(z.string(), keyBackupData) });
const versionInfo = z.looseObject({ algorithm: z.string(), auth_data: anyObject });
const versionQuery = z.looseObject({ version: z.string().optional() });

/** `version` is required on every /room_keys/keys call; Synapse answers its absence with M_MISSING_PARAM. */
function versionOf(q: { version?: string }): string {
  if (q.version === undefined) throw missingParam("Missing query parameter 'version'");
  return q.version;
}

export function keyBackupRoutes(deps: KeyBackupDeps) {
  const { backup } = deps;
  const keysRoutes = (path: string, scope: (p: Record<string, string>) => [string?, string?], putBody: z.ZodType, toRooms: (body: unknown, p: Record<string, string>) => RoomsKeys, op: string) => [
    route({
      method: 'GET',
      path,
      auth: 'user',
      query: versionQuery,
      spec: specOf(`get_matrixclientv3${op}`),
      async handler(ctx) {
        return ok(await backup.getKeys(requesterOf(ctx).userId, versionOf(ctx.query), ...scope(ctx.params)));
      },
    }),
    route({
      method: 'PUT',
      path,
      auth: 'user',
      query: versionQuery,
      body: putBody,
      spec: specOf(`put_matrixclientv3${op}`),
      async handler(ctx) {
        return ok(await backup.putKeys(requesterOf(ctx).userId, versionOf(ctx.query), toRooms(ctx.body, ctx.params)));
      },
    }),
    route({
      method: 'DELETE',
      path,
      auth: 'user',
      query: versionQuery,
      spec: specOf(`delete_matrixclientv3${op}`),
      async handler(ctx) {
        return ok(await backup.deleteKeys(requesterOf(ctx).userId, versionOf(ctx.query), ...scope(ctx.params)));
      },
    }),
  ];

  return withE2eeErrors([
    route({
      method: 'POST',
      path: `${BASE}/version`,
      auth: 'user',
      body: versionInfo,
      spec: specOf('post_matrixclientv3room_keysversion'),
      async handler(ctx) {
        const version = await backup.createVersion(requesterOf(ctx).userId, ctx.body.algorithm, ctx.body.auth_data as JsonMap);
        return ok({ version });
      },
    }),
    route({
      method: 'GET',
      path: `${BASE}/version`,
      auth: 'user',
      spec: specOf('get_matrixclientv3room_keysversion'),
      async handler(ctx) {
        return ok(await backup.getVersion(requesterOf(ctx).userId));
      },
    }),
    route({
      method: 'GET',
      path: `${BASE}/version/{version}`,
      auth: 'user',
      spec: specOf('get_matrixclientv3room_keysversionversion'),
      async handler(ctx) {
        return ok(await backup.getVersion(requesterOf(ctx).userId, ctx.params.version));
      },
    }),
    route({
      method: 'PUT',
      path: `${BASE}/version/{version}`,
      auth: 'user',
      body: versionInfo.extend({ version: z.string().optional() }),
      spec: specOf('put_matrixclientv3room_keysversionversion'),
      async handler(ctx) {
        const { algorithm, auth_data, version } = ctx.body;
        await backup.updateVersion(requesterOf(ctx).userId, ctx.params.version, { algorithm, auth_data: auth_data as JsonMap, version });
        return ok({});
      },
    }),
    route({
      method: 'DELETE',
      path: `${BASE}/version/{version}`,
      auth: 'user',
      spec: specOf('delete_matrixclientv3room_keysversionversion'),
      async handler(ctx) {
        await backup.deleteVersion(requesterOf(ctx).userId, ctx.params.version);
        return ok({});
      },
    }),
    ...keysRoutes(
      `${BASE}/keys`,
      () => [],
      z.looseObject({ rooms: z.record(z.string(), roomKeyBackup) }),
      (b) => (b as { rooms: RoomsKeys }).rooms,
      'room_keys',
    ),
    ...keysRoutes(
      `${BASE}/keys/{roomId}`,
      (p) => [p.roomId],
      roomKeyBackup,
      (b, p) => ({ [p.roomId]: b as RoomsKeys[string] }),
      'room_keysroomid',
    ),
    ...keysRoutes(
      `${BASE}/keys/{roomId}/{sessionId}`,
      (p) => [p.roomId, p.sessionId],
      keyBackupData,
      (b, p) => ({ [p.roomId]: { sessions: { [p.sessionId]: b as RoomsKeys[string]['sessions'][string] } } }),
      'room_keysroomidsessionid',
    ),
  ]);
}

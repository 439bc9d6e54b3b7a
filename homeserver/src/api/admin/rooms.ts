// Synapse-compatible room admin API (docs/admin_api/rooms.md): list, details, members,
// state, delete (v1 synchronous, v2 in the background with a status).
import { z } from 'zod';
import { ROOM_ORDERS, type AdminRooms, type DeleteOptions } from '../../admin/adminRooms.js';
import type { Task } from '../../admin/backgroundTasks.js';
import type { ShutdownResult } from '../../admin/adminRooms.js';
import { notFound } from '../../http/errors.js';
import { ok, route } from '../../http/route.js';
import { adminOf, boolParam, dirParam, intParam, oneOf } from './adminAuth.js';

const ADMIN = '/_synapse/admin';
const SPEC = 'synapse admin API: docs/admin_api/rooms.md';

const deleteBody = z.looseObject({
  new_room_user_id: z.string().optional(),
  room_name: z.string().optional(),
  message: z.string().optional(),
  block: z.boolean().optional(),
  purge: z.boolean().optional(),
  force_purge: z.boolean().optional(),
});

function deleteOptions(b: z.infer<typeof deleteBody>): DeleteOptions {
  return {
    ...(b.new_room_user_id !== undefined ? { newRoomUserId: b.new_room_user_id } : {}),
    ...(b.room_name !== undefined ? { roomName: b.room_name } : {}),
    ...(b.message !== undefined ? { message: b.message } : {}),
    block: b.block ?? false,
    purge: b.purge ?? true,
    forcePurge: b.force_purge ?? false,
  };
}

const statusOf = (t: Task<ShutdownResult>, roomId = t.subject) => ({
  delete_id: t.id,
  room_id: roomId,
  status: t.status,
  ...(t.error ? { error: t.error } : {}),
  shutdown_room: t.result,
});

export function adminRoomRoutes(deps: { rooms: AdminRooms }) {
  const { rooms } = deps;
  return [
    route({
      method: 'GET',
      path: `${ADMIN}/v1/rooms`,
      auth: 'user',
      query: z.looseObject({
        from: z.string().optional(),
        limit: z.string().optional(),
        order_by: z.string().optional(),
        dir: z.string().optional(),
        search_term: z.string().optional(),
        public_rooms: z.string().optional(),
        empty_rooms: z.string().optional(),
      }),
      spec: `${SPEC} "List Room API"`,
      async handler(ctx) {
        adminOf(ctx);
        const q = ctx.query;
        const publicRooms = boolParam('public_rooms', q.public_rooms);
        const emptyRooms = boolParam('empty_rooms', q.empty_rooms);
        return ok(
          await rooms.list({
            from: intParam('from', q.from, 0),
            limit: intParam('limit', q.limit, 100),
            orderBy: oneOf('order_by', q.order_by, ROOM_ORDERS, 'name'),
            dir: dirParam(q.dir),
            ...(q.search_term !== undefined ? { searchTerm: q.search_term } : {}),
            ...(publicRooms !== undefined ? { publicRooms } : {}),
            ...(emptyRooms !== undefined ? { emptyRooms } : {}),
          }),
        );
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v1/rooms/{roomId}`,
      auth: 'user',
      spec: `${SPEC} "Room Details API"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await rooms.details(ctx.params.roomId));
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v1/rooms/{roomId}/members`,
      auth: 'user',
      spec: `${SPEC} "Room Members API"`,
      async handler(ctx) {
        adminOf(ctx);
        return ok(await rooms.members(ctx.params.roomId));
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v1/rooms/{roomId}/state`,
      auth: 'user',
      query: z.looseObject({ type: z.string().optional() }),
      spec: `${SPEC} "Room State API"`,
      async handler(ctx) {
        const admin = adminOf(ctx);
        return ok(await rooms.state(admin, ctx.params.roomId, ctx.query.type));
      },
    }),
    route({
      method: 'DELETE',
      path: `${ADMIN}/v1/rooms/{roomId}`,
      auth: 'user',
      body: deleteBody,
      spec: `${SPEC} "Delete Room API" Version 1`,
      async handler(ctx) {
        const admin = adminOf(ctx);
        return ok(await rooms.delete(admin, ctx.params.roomId, deleteOptions(ctx.body)));
      },
    }),
    route({
      method: 'DELETE',
      path: `${ADMIN}/v2/rooms/{roomId}`,
      auth: 'user',
      body: deleteBody,
      spec: `${SPEC} "Delete Room API" Version 2`,
      async handler(ctx) {
        const admin = adminOf(ctx);
        const task = await rooms.startDelete(admin, ctx.params.roomId, deleteOptions(ctx.body));
        return ok({ delete_id: task.id });
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v2/rooms/delete_status/{deleteId}`,
      auth: 'user',
      spec: `${SPEC} "Query by delete_id"`,
      handler(ctx) {
        adminOf(ctx);
        const task = rooms.deletions.get(ctx.params.deleteId);
        if (!task) throw notFound('delete id not found');
        const { delete_id: _id, ...rest } = statusOf(task);
        return ok({ ...rest, delete_id: task.id });
      },
    }),
    route({
      method: 'GET',
      path: `${ADMIN}/v2/rooms/{roomId}/delete_status`,
      auth: 'user',
      spec: `${SPEC} "Query by room_id"`,
      handler(ctx) {
        adminOf(ctx);
        const tasks = rooms.deletions.bySubject(ctx.params.roomId);
        if (tasks.length === 0) throw notFound('No delete task for room');
        return ok({ results: tasks.map((t) => statusOf(t)) });
      },
    }),
  ];
}

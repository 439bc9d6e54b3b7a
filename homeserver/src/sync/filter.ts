// The filter JSON clients upload (POST /user/{userId}/filter) or pass inline to /sync,
// /messages and /context, validated field by field. Unknown fields are kept (so stored
// filters round-trip, extensions included) but never interpreted.
// Spec: client-server-api/_index.md "Filtering"; data/api/client-server/definitions/
// sync_filter.yaml, room_event_filter.yaml, event_filter.yaml.
import { z } from 'zod';

const userIds = z.array(z.string().startsWith('@', 'must be a user ID'));
const roomIds = z.array(z.string().startsWith('!', 'must be a room ID'));
// Dot-separated paths; `\` only escapes `.` or `\` (appendices "Dot-separated property paths").
const fieldPath = z.string().regex(/^(?:[^\\]|\\[.\\])*$/, 'invalid escape in field path');

const eventFilterFields = {
  // The spec asks for > 0; 0 is accepted as Synapse does ("no events, just the flags").
  limit: z.number().int().min(0).optional(),
  not_senders: userIds.optional(),
  senders: userIds.optional(),
  not_types: z.array(z.string()).optional(),
  types: z.array(z.string()).optional(),
};

export const eventFilterSchema = z.looseObject(eventFilterFields);

export const roomEventFilterSchema = z.looseObject({
  ...eventFilterFields,
  unread_thread_notifications: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  not_rooms: roomIds.optional(),
  rooms: roomIds.optional(),
  contains_url: z.boolean().optional(),
});

export const roomFilterSchema = z.looseObject({
  not_rooms: roomIds.optional(),
  rooms: roomIds.optional(),
  ephemeral: roomEventFilterSchema.optional(),
  include_leave: z.boolean().optional(),
  state: roomEventFilterSchema.optional(),
  timeline: roomEventFilterSchema.optional(),
  account_data: roomEventFilterSchema.optional(),
});

export const filterSchema = z.looseObject({
  event_fields: z.array(fieldPath).optional(),
  event_format: z.enum(['client', 'federation']).optional(),
  presence: eventFilterSchema.optional(),
  account_data: eventFilterSchema.optional(),
  room: roomFilterSchema.optional(),
});

export type EventFilterJson = z.infer<typeof eventFilterSchema>;
export type RoomEventFilterJson = z.infer<typeof roomEventFilterSchema>;
export type FilterJson = z.infer<typeof filterSchema>;

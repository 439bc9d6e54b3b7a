// Reading the room graph: one event, the state at an event (full or as IDs), an event's
// auth chain, backfill and get_missing_events. Each answer is only for a server that may
// see the room (the port checks; 403 M_FORBIDDEN otherwise, as Synapse does).
// Spec: server-server-api.md "Retrieving events", "Backfilling and retrieving missing
// events", "Retrieving event authorisation information"; events.yaml, backfill.yaml, event_auth.yaml.
import type { LocalServerIdentity, RoomEventsPort } from '../ports.js';
import { fedBadJson, fedMissingParam, guarded, isObject, originOf } from './errors.js';
import type { FederationRoute } from './route.js';

const MAX_BACKFILL = 100;
const MAX_MISSING = 20;

export function eventRoutes(deps: { port: RoomEventsPort; local: Pick<LocalServerIdentity, 'serverName'>; now?: () => number }): FederationRoute[] {
  const now = deps.now ?? Date.now;
  const envelope = (pdus: unknown[]) => ({ origin: deps.local.serverName, origin_server_ts: now(), pdus });
  const eventIdParam = (q: Record<string, string | undefined>): string => {
    const id = q.event_id;
    if (id === undefined || id === '') throw fedMissingParam('event_id is required');
    return id;
  };
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/event/{eventId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1eventeventid',
      handler: guarded(async (ctx) => ({ body: envelope([await deps.port.event(originOf(ctx), ctx.params.eventId)]) })),
    },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/state_ids/{roomId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1state_idsroomid',
      handler: guarded(async (ctx) => {
        const r = await deps.port.stateIds(originOf(ctx), ctx.params.roomId, eventIdParam(ctx.query));
        return { body: { pdu_ids: r.pduIds, auth_chain_ids: r.authChainIds } };
      }),
    },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/state/{roomId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1stateroomid',
      handler: guarded(async (ctx) => {
        const r = await deps.port.state(originOf(ctx), ctx.params.roomId, eventIdParam(ctx.query));
        return { body: { pdus: r.pdus, auth_chain: r.authChain } };
      }),
    },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/event_auth/{roomId}/{eventId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1event_authroomideventid',
      handler: guarded(async (ctx) => ({
        body: { auth_chain: await deps.port.eventAuth(originOf(ctx), ctx.params.roomId, ctx.params.eventId) },
      })),
    },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/backfill/{roomId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1backfillroomid',
      handler: guarded(async (ctx) => {
        const from = ctx.queryAll?.v ?? (ctx.query.v !== undefined ? [ctx.query.v] : []);
        if (from.length === 0) throw fedMissingParam('v is required');
        const limit = Number(ctx.query.limit ?? '10');
        if (!Number.isInteger(limit) || limit < 0) throw fedBadJson('limit must be a non-negative integer');
        return { body: envelope(await deps.port.backfill(originOf(ctx), ctx.params.roomId, from, Math.min(limit, MAX_BACKFILL))) };
      }),
    },
    {
      method: 'POST',
      path: '/_matrix/federation/v1/get_missing_events/{roomId}',
      auth: 'server',
      spec: 'server-server-api.md#post_matrixfederationv1get_missing_eventsroomid',
      handler: guarded(async (ctx) => {
        const b = ctx.body;
        if (!isObject(b) || !isStringArray(b.earliest_events) || !isStringArray(b.latest_events)) {
          throw fedBadJson('earliest_events and latest_events must be arrays of event IDs');
        }
        const limit = typeof b.limit === 'number' && Number.isInteger(b.limit) && b.limit >= 0 ? b.limit : 10;
        const minDepth = typeof b.min_depth === 'number' && Number.isInteger(b.min_depth) ? b.min_depth : 0;
        const events = await deps.port.missingEvents(originOf(ctx), ctx.params.roomId, {
          earliest: b.earliest_events,
          latest: b.latest_events,
          limit: Math.min(limit, MAX_MISSING),
          minDepth,
        });
        return { body: { events } };
      }),
    },
  ];
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

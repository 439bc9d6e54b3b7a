// Invites of our users by other servers (v2): we check and co-sign the invite, remember it
// so the user sees it, and return it. Third-party invite exchange is not supported.
// Spec: server-server-api.md "Inviting to a room", "Third-party invites"; invites-v2.yaml,
// third_party_invite.yaml.
import type { MembershipHandshakePort } from '../ports.js';
import { fedBadJson, guarded, isObject, originOf } from './errors.js';
import { matrixError, type FederationRoute } from './route.js';

export function inviteRoutes(deps: { port: MembershipHandshakePort }): FederationRoute[] {
  return [
    {
      method: 'PUT',
      path: '/_matrix/federation/v2/invite/{roomId}/{eventId}',
      auth: 'server',
      spec: 'server-server-api.md#put_matrixfederationv2inviteroomideventid',
      handler: guarded(async (ctx) => {
        const b = ctx.body;
        if (!isObject(b) || typeof b.room_version !== 'string' || !isObject(b.event)) throw fedBadJson('room_version and event are required');
        const state = Array.isArray(b.invite_room_state) ? b.invite_room_state : [];
        const event = await deps.port.invite(originOf(ctx), ctx.params.roomId, ctx.params.eventId, b.room_version, b.event, state);
        return { body: { event } };
      }),
    },
    {
      method: 'PUT',
      path: '/_matrix/federation/v1/exchange_third_party_invite/{roomId}',
      auth: 'server',
      spec: 'server-server-api.md#put_matrixfederationv1exchange_third_party_inviteroomid',
      // Parley has no identity-server integration, so it cannot vouch for third-party invites.
      handler: () => matrixError(400, 'M_UNRECOGNIZED', 'Third-party invites are not supported by this server'),
    },
  ];
}

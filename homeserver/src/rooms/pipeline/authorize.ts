// Step 4: the event must pass the room version's authorisation rules against the
// state before it. A refusal names the rule so the user can tell what went wrong.
// Spec: rooms/v12.md "Authorisation rules" (and the earlier versions' fragments).
import { checkEventAuth, type StateLookup } from '@parley/federation/core/auth/index';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { RoomEvent } from '@parley/federation/core/types';
import { forbidden } from '../../http/errors.js';

export function authorize(event: RoomEvent, state: StateLookup, rules: RoomVersionRules, createEventId: string | undefined): void {
  const res = checkEventAuth(event, state, rules, {
    ...(createEventId === undefined ? {} : { createEventId }),
    // Events reach the writer signed: built and signed here, or verified on receipt
    // (federation ingest), so a signature entry stands for a checked one. Needed for
    // join_authorised_via_users_server (restricted joins).
    isSignedBy: (pdu, server) => typeof pdu.signatures?.[server] === 'object',
  });
  if (!res.allowed) throw forbidden(`${res.reason} (auth rule ${res.rule})`);
}

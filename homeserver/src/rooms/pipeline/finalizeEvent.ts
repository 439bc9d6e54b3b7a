// Step 2: content hash, our signature, and the event ID (the reference hash; in v1/v2 a
// random ID with our server name, and the references signed as [ID, hash] pairs).
// Spec: server-server-api.md "Signing Events", "Calculating the reference hash for an event";
// rooms/fragments/v1-event-ids.md.
import { eventIdOf } from '@parley/federation/core/eventId';
import { fromWire, newV1EventId, toWire, usesRefPairs } from '@parley/federation/core/eventRefs';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { Pdu, RefHashes } from '@parley/federation/core/types';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';

export interface Signer {
  serverName: string;
  key: SigningKey;
}

/**
 * Sign `pdu` (bare IDs in prev_events/auth_events). For v1/v2, `refHashes` are the hash
 * objects of those references (in order; none for a create event): the wire form with the
 * pairs is what gets hashed and signed, and the result is held with bare IDs again.
 */
export function finalizeEvent(pdu: Pdu, rules: RoomVersionRules, signer: Signer, refHashes?: RefHashes): { pdu: Pdu; eventId: string; refHashes?: RefHashes } {
  if (!usesRefPairs(rules)) {
    const signed = hashAndSignEvent(pdu, rules, signer.serverName, signer.key);
    return { pdu: signed, eventId: eventIdOf(signed, rules) };
  }
  const refs = refHashes ?? { prev: [], auth: [] };
  const withId: Pdu = { ...pdu, event_id: pdu.event_id ?? newV1EventId(signer.serverName) };
  const signed = hashAndSignEvent(toWire(withId, refs), rules, signer.serverName, signer.key);
  return { pdu: fromWire(signed, rules).pdu, eventId: eventIdOf(signed, rules), refHashes: refs };
}

// Step 2: content hash, our signature, and the event ID (the reference hash).
// Spec: server-server-api.md "Signing Events", "Calculating the reference hash for an event".
import { eventIdOf } from '@parley/federation/core/eventId';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';

export interface Signer {
  serverName: string;
  key: SigningKey;
}

export function finalizeEvent(pdu: Pdu, rules: RoomVersionRules, signer: Signer): { pdu: Pdu; eventId: string } {
  const signed = hashAndSignEvent(pdu, rules, signer.serverName, signer.key);
  return { pdu: signed, eventId: eventIdOf(signed, rules) };
}

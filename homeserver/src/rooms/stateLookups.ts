// Synchronous auth-style lookups over a room's current state, for permission checks
// outside the write path (alias deletion, state reads).
import type { StateLookup } from '@parley/federation/core/auth/index';
import { stateKeyOf, type Pdu } from '@parley/federation/core/types';
import type { RoomReader } from './types.js';

export async function currentLookup(reader: Pick<RoomReader, 'currentStateEvent'>, roomId: string, keys: Array<[string, string]>): Promise<StateLookup> {
  const found = new Map<string, Pdu>();
  await Promise.all(
    keys.map(async ([t, k]) => {
      const ev = await reader.currentStateEvent(roomId, t, k);
      if (ev) found.set(stateKeyOf(t, k), ev.pdu);
    }),
  );
  return (type, stateKey) => found.get(stateKeyOf(type, stateKey));
}

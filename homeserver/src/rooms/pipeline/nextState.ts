// Step 5: the state after the event. Non-state events keep the room's state group;
// a state event gets a new group (a delta on the current one) and records the
// event it replaced, for `unsigned.prev_content` / `replaces_state`.
import { stateKeyOf, type Pdu } from '@parley/federation/core/types';
import type { Batch } from '../../storage/batch.js';
import type { RoomStorage } from '../../storage/roomStorage.js';
import type { ShortState } from '../../storage/stateRepo.js';
import type { StoredEvent } from '../types.js';
import type { RoomHead } from '../roomHead.js';

export interface StateStep {
  groupBefore: number;
  groupAfter: number;
  stateAfter: ShortState;
  replaces?: StoredEvent['replaces'];
}

export async function nextState(storage: RoomStorage, batch: Batch, head: RoomHead, pdu: Pdu, shortEvent: number): Promise<StateStep> {
  const groupBefore = head.record.stateGroup;
  if (typeof pdu.state_key !== 'string') return { groupBefore, groupAfter: groupBefore, stateAfter: head.state };

  const shortKey = await storage.ids.stateKeys.alloc(stateKeyOf(pdu.type, pdu.state_key), batch);
  const replacedShort = head.state.get(shortKey);
  const replaced =
    replacedShort === undefined ? undefined : (head.staged?.get(replacedShort) ?? (await storage.events.byShort(replacedShort)));
  const delta = { set: new Map([[shortKey, shortEvent]]) };
  const { group, state } = await storage.state.addGroup(batch, head.shortRoom, groupBefore, head.state, delta);
  storage.state.setCurrent(batch, head.shortRoom, delta);
  return {
    groupBefore,
    groupAfter: group,
    stateAfter: state,
    ...(replaced ? { replaces: { eventId: replaced.eventId, sender: replaced.pdu.sender, content: replaced.pdu.content } } : {}),
  };
}

// Events a local user sends: messages and other timeline events, state events, and
// redactions. Spec: client-server-api/_index.md "Sending events to a room",
// "Redactions", "Transaction identifiers".
import { powerLevelsOf, userPowerLevel } from '@parley/federation/core/auth/index';
import type { JsonObject } from '@parley/federation/core/types';
import { badJson, forbidden } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import type { TxnScope } from '../storage/txnRepo.js';
import { sameJson } from '../util/sameJson.js';
import type { EventDraft } from './pipeline/draft.js';
import type { SendCheck } from './relationChecks.js';
import type { RoomView, RoomWriter } from './roomWriter.js';
import type { RoomReader } from './types.js';

export class EventService {
  constructor(
    private readonly writer: RoomWriter,
    private readonly reader: RoomReader,
    /** Relationship checks (duplicate reactions, threads off relations), run in the room's queue. */
    private readonly check?: SendCheck,
  ) {}

  /** PUT /send: idempotent per (user, device, room, event type, txn ID). */
  async send(requester: Requester, roomId: string, type: string, txnId: string, content: JsonObject): Promise<string> {
    const txn: TxnScope = { userId: requester.userId, deviceId: requester.deviceId, roomId, endpoint: `send:${type}`, txnId };
    if (type === 'm.room.redaction') {
      // client-server-api "Redactions", v1.18: redactions may also be sent through /send.
      const redacts = content.redacts;
      if (typeof redacts !== 'string') throw badJson('m.room.redaction needs content.redacts');
      return this.redactWith(requester.userId, roomId, redacts, content, txn);
    }
    const res = await this.writer.append(
      roomId,
      async () => {
        await this.check?.(roomId, type, requester.userId, content);
        return [{ type, sender: requester.userId, content }];
      },
      txn,
    );
    return res.eventIds[0];
  }

  /** PUT /state: a state event identical to the current one (same sender and content) is not sent again (Synapse). */
  async setState(requester: Requester, roomId: string, type: string, stateKey: string, content: JsonObject): Promise<string> {
    const res = await this.writer.append(roomId, async (view) => {
      const current = await view.stateEvent(type, stateKey);
      if (current && current.pdu.sender === requester.userId && sameJson(current.pdu.content, content)) {
        return { existing: current.eventId };
      }
      return [{ type, sender: requester.userId, stateKey, content }];
    });
    return res.eventIds[0];
  }

  /** PUT /redact/{eventId}/{txnId}. */
  redact(requester: Requester, roomId: string, eventId: string, txnId: string, reason: string | undefined): Promise<string> {
    const txn: TxnScope = { userId: requester.userId, deviceId: requester.deviceId, roomId, endpoint: `redact:${eventId}`, txnId };
    return this.redactWith(requester.userId, roomId, eventId, reason === undefined ? {} : { reason }, txn);
  }

  private async redactWith(sender: string, roomId: string, targetId: string, content: JsonObject, txn: TxnScope): Promise<string> {
    const target = await this.reader.getEvent(targetId);
    const res = await this.writer.append(
      roomId,
      async (view) => {
        // Your own events, or anyone's with the redact level. An unknown target is left to the auth rules (Synapse).
        if (target && target.roomId === roomId && target.pdu.sender !== sender && !(await mayRedactOthers(view, sender))) {
          throw forbidden("You don't have permission to redact events of other users");
        }
        const { redacts: _ignored, ...rest } = content;
        const draft: EventDraft = { type: 'm.room.redaction', sender, content: rest, redacts: targetId };
        return [draft];
      },
      txn,
    );
    return res.eventIds[0];
  }
}

async function mayRedactOthers(view: RoomView, userId: string): Promise<boolean> {
  const lookup = await view.lookup([
    ['m.room.create', ''],
    ['m.room.power_levels', ''],
  ]);
  return userPowerLevel(userId, lookup, view.rules) >= powerLevelsOf(lookup, view.rules).levels.redact;
}

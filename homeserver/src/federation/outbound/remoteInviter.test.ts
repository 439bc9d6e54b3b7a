// Invites of remote users: the invitee's server must return our event with its own valid
// signature; anything else (a refusal, another event, no signature) fails the invite.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventIdOf } from '@parley/federation/core/eventId';
import { redact } from '@parley/federation/core/redaction';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu } from '@parley/federation/core/types';
import { signingKeyFromSeed } from '@parley/federation/signing/ed25519Key';
import { verifyJsonSignature } from '@parley/federation/signing/signJson';
import { hashAndSignEvent, signEvent } from '@parley/federation/signing/signEvent';
import type { FederationRequest, FederationRequester } from '@parley/federation/transport/federationClient';
import { MatrixError } from '../../http/errors.js';
import { FederationRemoteInviter } from './remoteInviter.js';

const rules = roomVersion('12')!;
const ourKey = signingKeyFromSeed('ed25519:us', Buffer.alloc(32, 1));
const theirKey = signingKeyFromSeed('ed25519:them', Buffer.alloc(32, 2));
const keys = new Map([
  ['us.test', ourKey],
  ['legal.test', theirKey],
]);
/** Verifies with the real keys of both test servers. */
const keyRing = {
  async verifyJsonSignedBy(obj: JsonObject, server: string): Promise<boolean> {
    const k = keys.get(server);
    const sig = (obj.signatures as Record<string, Record<string, string>> | undefined)?.[server];
    if (!k || !sig || !sig[k.keyId]) return false;
    return verifyJsonSignature(obj, server, k.keyId, k.publicKey);
  },
};

function ourInvite(): { eventId: string; roomId: string; pdu: Pdu } {
  const pdu = hashAndSignEvent(
    {
      room_id: '!room',
      type: 'm.room.member',
      sender: '@alice:us.test',
      state_key: '@dave:legal.test',
      content: { membership: 'invite' },
      origin_server_ts: 1000,
      depth: 5,
      prev_events: ['$prev'],
      auth_events: ['$pl', '$alice'],
    } as unknown as Pdu,
    rules,
    'us.test',
    ourKey,
  );
  return { eventId: eventIdOf(pdu, rules), roomId: '!room', pdu };
}

function answering(answer: (req: FederationRequest) => { status: number; body: unknown }): { client: FederationRequester; requests: FederationRequest[] } {
  const requests: FederationRequest[] = [];
  const client = {
    async request(req: FederationRequest) {
      requests.push(req);
      const { status, body } = answer(req);
      if (status === 200) return { ok: true, status, body };
      const b = body as { errcode?: string; error?: string };
      return { ok: false, kind: 'http', status, errcode: b.errcode ?? 'M_UNKNOWN', error: b.error ?? 'error' };
    },
  } as unknown as FederationRequester;
  return { client, requests };
}

test('it should send the invite with the room state to the invitee’s server and keep its countersignature', async () => {
  const invite = ourInvite();
  const { client, requests } = answering((req) => ({ status: 200, body: { event: signEvent((req.body as { event: Pdu }).event, rules, 'legal.test', theirKey) } }));
  const state = [{ type: 'm.room.create' } as unknown as Pdu];
  const out = await new FederationRemoteInviter({ client, keys: keyRing }).invite('12', invite, state);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].destination, 'legal.test');
  assert.equal(requests[0].method, 'PUT');
  assert.equal(requests[0].path, `/_matrix/federation/v2/invite/!room/${encodeURIComponent(invite.eventId)}`);
  assert.deepEqual((requests[0].body as JsonObject).invite_room_state, state);
  assert.equal((requests[0].body as JsonObject).room_version, '12');
  assert.equal(out.eventId, invite.eventId);
  assert.ok(await keyRing.verifyJsonSignedBy(redact(out.pdu, rules) as unknown as JsonObject, 'legal.test'), 'countersigned by legal');
  assert.ok(await keyRing.verifyJsonSignedBy(redact(out.pdu, rules) as unknown as JsonObject, 'us.test'), 'still signed by us');
});

test('it should pass on the invitee server’s refusal and refuse answers that are not our invite countersigned', async () => {
  const invite = ourInvite();
  const refusing = answering(() => ({ status: 403, body: { errcode: 'M_FORBIDDEN', error: 'no invites from you' } }));
  await assert.rejects(new FederationRemoteInviter({ client: refusing.client, keys: keyRing }).invite('12', invite, []), (e: unknown) => {
    return e instanceof MatrixError && e.status === 403 && e.errcode === 'M_FORBIDDEN';
  });
  const unsigned = answering((req) => ({ status: 200, body: { event: (req.body as { event: Pdu }).event } }));
  await assert.rejects(new FederationRemoteInviter({ client: unsigned.client, keys: keyRing }).invite('12', invite, []), (e: unknown) => e instanceof MatrixError && e.status === 502);
  const other = answering((req) => {
    const ev = { ...(req.body as { event: Pdu }).event, content: { membership: 'invite', displayname: 'x' } };
    return { status: 200, body: { event: hashAndSignEvent(ev, rules, 'legal.test', theirKey) } };
  });
  await assert.rejects(new FederationRemoteInviter({ client: other.client, keys: keyRing }).invite('12', invite, []), (e: unknown) => e instanceof MatrixError && e.status === 502);
});

// Rejecting an invite to a room this server is not in: the leave goes to the inviting server
// through make_leave/send_leave, signed by us, and /sync moves the room from rooms.invite to
// rooms.leave. Unreachable, the invite is still rejected here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventIdOf } from '@parley/federation/core/eventId';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { verifyEventSignature } from '@parley/federation/signing/signEvent';
import { openInboundKit, REMOTE, US, type InboundKit } from '../testing/inboundKit.js';
import { LateRoomPorts } from './lateRoomPorts.js';
import { FederationRemoteLeaver } from './remoteLeaver.js';

async function withKit(fn: (k: InboundKit) => Promise<void>): Promise<void> {
  const ports = new LateRoomPorts();
  const k = await openInboundKit({ remotePorts: { remoteLeaver: ports } });
  ports.bindLeaver(new FederationRemoteLeaver({ serverName: US, signingKey: k.ourKey, client: k.net, reader: k.rooms.reader, writer: k.rooms.writer }));
  try {
    await fn(k);
  } finally {
    await k.close();
  }
}

/** The fake's room with an invite of our user `localpart`, taken in as a remote invite. */
async function invited(k: InboundKit, localpart: string): Promise<{ roomId: string; userId: string; token: string }> {
  const { userId, token } = k.local(localpart);
  const { roomId } = k.remote.createRoom('12', 'owner');
  const invite = k.remote.build(roomId, {
    type: 'm.room.member',
    sender: k.remote.user('owner'),
    stateKey: userId,
    content: { membership: 'invite' },
    alsoSignedBy: [{ serverName: US, key: k.ourKey }],
  });
  await k.ingest.ingestInvite('12', invite.pdu, [{ type: 'm.room.name', state_key: '', sender: k.remote.user('owner'), content: { name: 'HR only' } }]);
  return { roomId, userId, token };
}

async function sync(k: InboundKit, token: string, since?: string): Promise<any> {
  const res = await k.clientCall('GET', `/_matrix/client/v3/sync?timeout=0${since ? `&since=${since}` : ''}`, token);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

test('it should reject a remote invite through the inviting server and move the room to rooms.leave', async () => {
  await withKit(async (k) => {
    const { roomId, userId, token } = await invited(k, 'bob');
    k.remote.serveHandshakes(roomId);
    const first = await sync(k, token);
    assert.ok(first.rooms?.invite?.[roomId], 'the invite shows first');

    const leaveId = await k.rooms.membership.leave(userId, roomId, 'not for me');

    const sent = k.remote.calls.find((c) => c.method === 'PUT' && c.path.includes('/_matrix/federation/v2/send_leave/'));
    assert.ok(sent, 'send_leave went to the inviting server');
    const leave = sent.body as unknown as Pdu;
    const rules = roomVersion('12')!;
    assert.equal(eventIdOf(leave, rules), leaveId);
    assert.equal(leave.content.membership, 'leave');
    assert.equal(leave.content.reason, 'not for me');
    assert.equal(leave.sender, userId);
    assert.ok(verifyEventSignature(leave, rules, US, k.ourKey.keyId, k.ourKey.publicKey), 'signed by our server');
    assert.ok(k.remote.events.has(leaveId), 'the resident took the leave into its room');

    assert.equal((await k.rooms.reader.membership(roomId, userId))?.membership, 'leave');
    const next = await sync(k, token, first.next_batch);
    assert.ok(next.rooms?.leave?.[roomId], `the room is under rooms.leave: ${JSON.stringify(next.rooms)}`);
    assert.equal(next.rooms?.invite?.[roomId], undefined);
    const fresh = await sync(k, token);
    assert.equal(fresh.rooms?.invite?.[roomId], undefined, 'an initial sync no longer offers the invite');
  });
});

test('it should still reject the invite here when no server of the room can be reached', async () => {
  await withKit(async (k) => {
    const { roomId, userId, token } = await invited(k, 'cleo');
    k.remote.override(() => ({ ok: false, kind: 'connect', status: 0, errcode: 'PARLEY_CONNECT', error: 'connection refused' }) as never);
    const first = await sync(k, token);
    assert.ok(first.rooms?.invite?.[roomId]);
    await k.rooms.membership.leave(userId, roomId);
    assert.ok(k.remote.calls.some((c) => c.path.startsWith('/_matrix/federation/v1/make_leave/')), `asked ${REMOTE} first`);
    assert.equal((await k.rooms.reader.membership(roomId, userId))?.membership, 'leave');
    const next = await sync(k, token, first.next_batch);
    assert.ok(next.rooms?.leave?.[roomId]);
  });
});

// The ceilings for join-large-room: the least a server does to join the resident's room and
// then to learn its full state, written plainly in the bench process (no storage, no state
// resolution, no client API). Join: make_join, the join event hashed and signed, send_join v2
// with omit_members=true, and every PDU of the answer checked (content hash and the
// resident's signature, on libuv's thread pool). Resync: GET /state at that join, every PDU
// checked the same way. The primitives are federation/src's (canonical JSON, redaction,
// node:crypto Ed25519); nothing of Parley's server is involved.
// Spec: server-server-api.md "Joining Rooms", "Retrieving events" (/state), "Validating hashes and signatures on received events".
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { eventIdOf } from '@parley/federation/core/eventId';
import { hasValidContentHash } from '@parley/federation/core/hashes';
import type { JsonObject, Pdu } from '@parley/federation/core/types';
import { generateSigningKey, publicKeyFromBase64 } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent, verifyEventSignatureAsync } from '@parley/federation/signing/signEvent';
import type { RemoteRoom } from '../fed/remoteRoom.js';
import { expectStatus, request, target } from '../lib/http.js';
import type { RemoteServer } from '../fed/remoteServer.js';

const SERVER = 'ceiling.invalid';

export interface JoinFloor {
  joinMs: number;
  /** PDUs per second: fetch, parse and check the whole state at the join. */
  resyncPerSecond: number;
  statePdus: number;
}

export async function joinFloor(remote: RemoteServer, room: RemoteRoom): Promise<JoinFloor> {
  const agent = new Agent({ keepAlive: true, ca: readFileSync(remote.caFile) });
  const t = target(`https://127.0.0.1:${remote.port}`, agent);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(t, method, path, { body });
    expectStatus(res, 200, `${method} ${path}`);
    return res.json() as unknown;
  };
  const publicKey = publicKeyFromBase64(remote.key.publicKeyBase64);
  const checkAll = async (pdus: Pdu[]) => {
    const ok = await Promise.all(pdus.map((p) => (hasValidContentHash(p) ? verifyEventSignatureAsync(p, room.rules, remote.serverName, remote.key.keyId, publicKey) : false)));
    const bad = ok.filter((x) => !x).length;
    if (bad > 0) throw new Error(`${bad} PDUs from the resident failed their checks`);
  };
  const key = generateSigningKey();
  const userId = `@floor:${SERVER}`;
  const roomPath = encodeURIComponent(room.roomId);
  try {
    const t0 = performance.now();
    const made = (await call('GET', `/_matrix/federation/v1/make_join/${roomPath}/${encodeURIComponent(userId)}?ver=${room.rules.id}`)) as { event: JsonObject };
    const join = hashAndSignEvent({ ...made.event, origin_server_ts: Date.now() } as unknown as Pdu, room.rules, SERVER, key);
    const joinId = eventIdOf(join, room.rules);
    const answer = (await call('PUT', `/_matrix/federation/v2/send_join/${roomPath}/${encodeURIComponent(joinId)}?omit_members=true`, join)) as { state: Pdu[]; auth_chain: Pdu[] };
    await checkAll([...answer.state, ...answer.auth_chain]);
    const joinMs = performance.now() - t0;

    const t1 = performance.now();
    const state = (await call('GET', `/_matrix/federation/v1/state/${roomPath}?event_id=${encodeURIComponent(joinId)}`)) as { pdus: Pdu[]; auth_chain: Pdu[] };
    await checkAll([...state.pdus, ...state.auth_chain]);
    const seconds = (performance.now() - t1) / 1000;
    return { joinMs, resyncPerSecond: state.pdus.length / seconds, statePdus: state.pdus.length };
  } finally {
    agent.destroy();
  }
}


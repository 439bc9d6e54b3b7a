// fed-ingest: a generated remote server joins a room on Parley (make_join / send_join v2),
// then sends signed transactions of 50 non-conflicting PDUs (a linear chain of messages
// from its user) to PUT /_matrix/federation/v1/send/{txnId}, one transaction at a time
// as the spec has a sender do per destination. Figure: PDUs Parley accepted (no error in
// the response's `pdus` map) per second of wall time. Ceiling: node:crypto Ed25519
// verifications per second (thread pool) in the same run.
import { eventIdOf } from '@parley/federation/core/eventId';
import { knownRoomVersions, roomVersion } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';
import { makeAgent, request, target, enc } from '../lib/http.js';
import { createRoom, registerMany } from '../lib/matrix.js';
import { measureEd25519Verify } from '../lib/ed25519Ceiling.js';
import { readCpuMs, type Parley } from '../lib/parley.js';
import { ge, runBenchmark } from '../lib/result.js';
import { summarize } from '../lib/stats.js';
import { log } from '../lib/util.js';
import { FederationUnavailable, probeRoute, startFederatingParley } from '../fed/fedParley.js';
import { RemoteRoom } from '../fed/remoteRoom.js';
import { RemoteServer } from '../fed/remoteServer.js';

const PER_TXN = 50;
const TXNS = Number(process.env.BENCH_FED_TXNS ?? 40);
/**
 * Transactions sent before the measured ones: the first thousand PDUs after start-up run while
 * V8 is still compiling the ingest path (on the second core), at ~1.2 ms of server CPU per PDU
 * against ~0.8 once warm. Their rate is reported in the note as the cold figure.
 */
const WARMUP_TXNS = 20;
const FIGURE = `accepted PDUs/s (transactions of ${PER_TXN}, sent one at a time)`;

await runBenchmark('fed-ingest', async (ctx) => {
  const ceiling = await measureEd25519Verify();
  log(`ed25519 verify: ${ceiling.syncPerSecond.toFixed(0)}/s on the event loop, ${ceiling.asyncPerSecond.toFixed(0)}/s on the thread pool`);
  const unavailable = (reason: string) => ctx.row({ figure: FIGURE, value: null, unit: 'PDUs/s', target: ge(1500), ceiling: ceiling.asyncPerSecond, note: `not available: ${reason}` });

  const remote = await RemoteServer.start();
  let server: Parley | undefined;
  try {
    try {
      server = await startFederatingParley(remote);
    } catch (err) {
      if (err instanceof FederationUnavailable) return void unavailable(err.message);
      throw err;
    }
    const missing =
      (await probeRoute(server, 'PUT', '/_matrix/federation/v1/send/bench-probe')) ??
      (await probeRoute(server, 'GET', `/_matrix/federation/v1/make_join/${enc('!probe:bench')}/${enc('@probe:bench')}`));
    if (missing) return void unavailable(missing);

    const t = target(server.baseUrl, makeAgent(16));
    const { users } = await registerMany(t, 'fedlocal', 1, 1);
    const roomId = await createRoom(t, users[0], { preset: 'public_chat', name: 'fed-ingest' });
    const remoteUser = `@bench:${remote.serverName}`;
    const ver = knownRoomVersions().map((v) => `ver=${enc(v.id)}`).join('&');
    const mj = await remote.signedRequest(server, 'GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(remoteUser)}?${ver}`);
    if (mj.status !== 200) return void unavailable(`make_join answered HTTP ${mj.status} ${mj.body.toString().slice(0, 200)}`);
    const rules = roomVersion(String(mj.json().room_version ?? '1'));
    if (!rules) return void unavailable(`make_join offered unknown room version ${mj.json().room_version}`);
    const { signatures: _s, hashes: _h, unsigned: _u, ...template } = mj.json().event as Pdu & { unsigned?: unknown };
    const join = hashAndSignEvent({ ...template, origin_server_ts: Date.now(), hashes: { sha256: '' }, signatures: {} } as Pdu, rules, remote.serverName, remote.key);
    const joinId = eventIdOf(join, rules);
    const sj = await remote.signedRequest(server, 'PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(joinId)}`, join);
    if (sj.status !== 200) return void unavailable(`send_join answered HTTP ${sj.status} ${sj.body.toString().slice(0, 200)}`);
    const room = new RemoteRoom(rules, remote.serverName, remote.key);
    room.importJoin(joinId, join, sj.json().state ?? [], sj.json().auth_chain ?? []);

    // Pre-generate every PDU, so that the remote's signing is not timed.
    const g0 = performance.now();
    const txns: Array<{ ids: string[]; pdus: Pdu[] }> = [];
    for (let k = 0; k < WARMUP_TXNS + TXNS; k++) {
      const ids: string[] = [];
      const pdus: Pdu[] = [];
      for (let i = 0; i < PER_TXN; i++) {
        const { id, pdu } = room.build({ type: 'm.room.message', sender: remoteUser, content: { msgtype: 'm.text', body: `fed ${k}.${i}` } });
        room.add(id, pdu);
        ids.push(id);
        pdus.push(pdu);
      }
      txns.push({ ids, pdus });
    }
    log(`generated ${(WARMUP_TXNS + TXNS) * PER_TXN} signed PDUs in ${(performance.now() - g0).toFixed(0)} ms`);

    const ft = target(server.baseUrl, makeAgent(4));
    let accepted = 0;
    let rejected = 0;
    let firstError: string | undefined;
    const txnMs: number[] = [];
    let start = 0;
    let cpuAtStart = { process: NaN, mainThread: NaN };
    const coldStart = performance.now();
    const coldCpu = readCpuMs(server.pid);
    let coldNote = '';
    for (let k = 0; k < txns.length; k++) {
      if (k === WARMUP_TXNS) {
        start = performance.now();
        cpuAtStart = readCpuMs(server.pid);
        const n = WARMUP_TXNS * PER_TXN;
        coldNote = `cold (the first ${n} PDUs after start-up, not counted): ${(n / ((start - coldStart) / 1000)).toFixed(0)} PDUs/s, server CPU per PDU ${((cpuAtStart.process - coldCpu.process) / n).toFixed(2)} ms`;
      }
      const body = { origin: remote.serverName, origin_server_ts: Date.now(), pdus: txns[k].pdus };
      const res = await remote.signedRequest(server, 'PUT', `/_matrix/federation/v1/send/bench${Date.now()}.${k}`, body, ft);
      if (res.status !== 200) return void unavailable(`PUT /send answered HTTP ${res.status} ${res.body.toString().slice(0, 200)}`);
      const results = (res.json()?.pdus ?? {}) as Record<string, { error?: string }>;
      if (k < WARMUP_TXNS) continue;
      txnMs.push(res.ms);
      for (const id of txns[k].ids) {
        const r = results[id];
        if (r?.error) {
          rejected++;
          firstError ??= `${id}: ${r.error}`;
        } else accepted++;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    // The server's CPU per PDU is steadier than PDUs/s on a shared machine (it does not count waiting for a busy CPU).
    const cpuAtEnd = readCpuMs(server.pid);
    const pdusSent = TXNS * PER_TXN;
    const cpuNote = `server CPU per PDU ${((cpuAtEnd.process - cpuAtStart.process) / pdusSent).toFixed(2)} ms (event-loop thread ${((cpuAtEnd.mainThread - cpuAtStart.mainThread) / pdusSent).toFixed(2)} ms)`;

    // Did the events really land? The last one should be the newest in the room.
    const lastId = txns[txns.length - 1].ids[PER_TXN - 1];
    const msgs = await request(t, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=1`, { token: users[0].accessToken });
    const newest = msgs.json()?.chunk?.[0]?.event_id as string | undefined;
    const landed = newest === lastId;
    const s = summarize(txnMs);
    ctx.row({
      figure: FIGURE,
      value: landed ? accepted / seconds : 0,
      unit: 'PDUs/s',
      target: ge(1500),
      ceiling: ceiling.asyncPerSecond,
      note: `${accepted} accepted, ${rejected} rejected${firstError ? ` (first: ${firstError.slice(0, 160)})` : ''}; transaction p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms; ${cpuNote}; ${coldNote}; ${landed ? 'last PDU visible to the local user' : `last PDU NOT visible to the local user (newest: ${newest ?? 'none'}), counted as 0`}; ed25519 verify on the event loop ${ceiling.syncPerSecond.toFixed(0)}/s`,
    });
  } finally {
    await server?.dispose();
    await remote.close();
  }
});

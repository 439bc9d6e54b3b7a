// Durability across kill -9 under load: every acknowledged event survives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverForTest } from './harness/hooks.js';
import {
  allMessages,
  createRoom,
  enc,
  expectOk,
  joinRoom,
  rawRequest,
  registerUser,
  sendRaw,
  sendText,
  sync,
  type User,
} from './harness/http.js';
import { sleep } from './harness/util.js';

describe('crash safety', () => {
  it('should keep every event whose PUT returned 200 after kill -9 during a send load, and then serve normally', async (t) => {
    const server = await serverForTest(t);
    const senders: User[] = [];
    for (let i = 0; i < 4; i++) senders.push(await registerUser(server));
    const roomId = await createRoom(server, senders[0]!, { preset: 'public_chat', name: 'crash room' });
    for (const s of senders.slice(1)) await joinRoom(server, s, roomId);

    const acked = new Map<string, string>(); // event_id -> body
    let inFlight = 0;
    let stop = false;
    let errorsAfterKill = 0;
    const unexpected: string[] = [];
    const loops = senders.map(async (user, lane) => {
      for (let i = 0; !stop; i++) {
        const body = `lane ${lane} #${i}`;
        inFlight++;
        try {
          const res = await sendRaw(server, user, roomId, { msgtype: 'm.text', body });
          if (res.status === 200 && typeof res.json?.event_id === 'string') acked.set(res.json.event_id, body);
          else if (!stop) unexpected.push(`HTTP ${res.status} ${res.text}`);
        } catch {
          errorsAfterKill++; // connection reset by the kill: not acknowledged, may or may not be stored
          return;
        } finally {
          inFlight--;
        }
      }
    });

    // Let the load build up, then kill while requests are in flight.
    const t0 = Date.now();
    while (acked.size < 150 && Date.now() - t0 < 20_000) await sleep(20);
    const deadline = Date.now() + 2000;
    while (inFlight === 0 && Date.now() < deadline) await sleep(1);
    assert.ok(inFlight > 0, 'expected sends in flight at the moment of the kill');
    const killedWith = inFlight;
    await server.kill9();
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(unexpected, [], 'sends before the kill must all succeed');
    assert.ok(acked.size >= 50, `only ${acked.size} sends were acknowledged before the kill — the load did not build up`);
    process.stderr.write(`# crash: ${acked.size} acknowledged, ${killedWith} in flight at kill, ${errorsAfterKill} failed\n`);

    await server.restart();

    // Every acknowledged event is retrievable individually...
    const reader = senders[0]!;
    const missing: string[] = [];
    for (const [id, body] of acked) {
      const res = await rawRequest(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(id)}`, { token: reader.accessToken });
      if (res.status !== 200 || res.json?.content?.body !== body) missing.push(`${id} (${body}): HTTP ${res.status}`);
    }
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.size} acknowledged events are missing after kill -9`);
    // ...and in the timeline, once each.
    const history = await allMessages(server, reader, roomId);
    const ids = history.map((e) => e.event_id as string);
    assert.equal(new Set(ids).size, ids.length, 'no event appears twice in history after recovery');
    for (const id of acked.keys()) assert.ok(ids.includes(id), `acknowledged event ${id} is not in /messages`);
    // Per-lane order is preserved for what survived.
    const lanes = new Map<number, number[]>();
    for (const e of history) {
      const m = /^lane (\d+) #(\d+)$/.exec(e.content?.body ?? '');
      if (!m) continue;
      const seq = lanes.get(Number(m[1])) ?? [];
      seq.push(Number(m[2]));
      lanes.set(Number(m[1]), seq);
    }
    for (const [lane, seq] of lanes) {
      for (let i = 1; i < seq.length; i++) assert.ok(seq[i]! > seq[i - 1]!, `lane ${lane}: #${seq[i]} after #${seq[i - 1]} in history`);
    }

    // The server serves normally afterwards.
    const s0 = await sync(server, senders[1]!, { timeout: 0, filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) });
    const fresh = await sendText(server, senders[0]!, roomId, 'after the crash');
    assert.ok(!acked.has(fresh), 'new event IDs do not collide with pre-crash ones');
    const s1 = await sync(server, senders[1]!, { since: s0.next_batch, timeout: 5000 });
    assert.ok(s1.rooms?.join?.[roomId]?.timeline?.events.some((e: { event_id: string }) => e.event_id === fresh), 'the new message syncs to another user');
    const newcomer = await registerUser(server);
    await joinRoom(server, newcomer, roomId);
    const newRoom = await createRoom(server, newcomer, { name: 'post-crash' });
    assert.match(newRoom, /^!/);
    expectOk(await rawRequest(server, 'GET', '/_matrix/client/v3/account/whoami', { token: senders[2]!.accessToken }), 'pre-crash tokens still work');
  });
});

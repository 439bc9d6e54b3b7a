// join-large-room: a generated resident server holds a 20,000-member room (every member
// its own user; all events hashed and signed by it). A local user joins through it
// (POST /join with server_name/via → Parley's make_join + send_join v2). Figures: the
// client's /join round trip, and — when Parley asked for a partial-state join
// (omit_members=true) — the rate at which it then resyncs the full state in the
// background, measured as members appearing in GET /joined_members per second.
// Ceilings, same run, after Parley's figures: ceilings/joinFloor's join and state fetch
// against the same resident and room (checked PDUs per second for the resync).
import { DEFAULT_ROOM_VERSION, roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { enc, makeAgent, request, target } from '../lib/http.js';
import { registerMany } from '../lib/matrix.js';
import type { Parley } from '../lib/parley.js';
import { ge, le, runBenchmark } from '../lib/result.js';
import { log, sleep } from '../lib/util.js';
import { FederationUnavailable, startFederatingParley } from '../fed/fedParley.js';
import { RemoteRoom } from '../fed/remoteRoom.js';
import { RemoteServer } from '../fed/remoteServer.js';
import { joinFloor } from '../ceilings/joinFloor.js';

const MEMBERS = Number(process.env.BENCH_JOIN_MEMBERS ?? 20_000);
const RESYNC_TIMEOUT_MS = 120_000;
const JOIN_FIGURE = `/join of a ${MEMBERS}-member remote room`;
const RESYNC_FIGURE = 'background state resync after a partial-state join';
const floorNote = 'ceiling: a bare join (make_join, send_join with omit_members, the answer checked) and, for the resync, GET /state with every PDU checked (ceilings/joinFloor)';

/** A room on the resident: its creator and MEMBERS members, each of its own user. */
function largeRoom(remote: RemoteServer, rules: RoomVersionRules, name: string): RemoteRoom {
  const room = new RemoteRoom(rules, remote.serverName, remote.key);
  room.create(`@creator:${remote.serverName}`, name);
  for (let i = 0; i < MEMBERS; i++) {
    const u = `@m${i}:${remote.serverName}`;
    room.send({ type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join', displayname: `member ${i}` } });
  }
  remote.rooms.set(room.roomId, room);
  return room;
}

await runBenchmark('join-large-room', async (ctx) => {
  const remote = await RemoteServer.start();
  let server: Parley | undefined;
  try {
    const rules = roomVersion(DEFAULT_ROOM_VERSION)!;
    const g0 = performance.now();
    const room = largeRoom(remote, rules, 'large room');
    // The ceilings join a room of their own, of the same shape: Parley's join (signed by Parley) is not in it.
    const floorRoom = largeRoom(remote, rules, 'large room for the ceilings');
    log(`generated two ${MEMBERS}-member rooms (${room.events.size} signed events each), one for Parley and one for the ceilings, in ${((performance.now() - g0) / 1000).toFixed(1)} s`);

    const unavailable = (reason: string) => {
      ctx.notAvailable(JOIN_FIGURE, 'ms', le(5000), reason);
      ctx.notAvailable(RESYNC_FIGURE, 'events/s', ge(2000), reason);
    };
    try {
      server = await startFederatingParley(remote);
    } catch (err) {
      if (err instanceof FederationUnavailable) return unavailable(err.message);
      throw err;
    }
    const t = target(server.baseUrl, makeAgent(8));
    const { users } = await registerMany(t, 'joiner', 1, 1);
    const u = users[0];
    const q = `server_name=${enc(remote.serverName)}&via=${enc(remote.serverName)}`;
    const res = await request(t, 'POST', `/_matrix/client/v3/join/${enc(room.roomId)}?${q}`, { token: u.accessToken, body: {}, timeoutMs: 180_000 });
    const joinMs = res.ms;
    const joinedAt = res.endAt;
    if (res.status !== 200) {
      const reason = `POST /join answered HTTP ${res.status} after ${(joinMs / 1000).toFixed(1)} s: ${res.body.toString().slice(0, 200)}`;
      return unavailable(remote.stats.counts.make_join ? reason : `${reason} (Parley never called make_join on the resident)`);
    }
    const partial = remote.sendJoinOmit.at(-1) === true;
    const joinNote = `${partial ? 'partial-state join (omit_members=true)' : 'full-state join (send_join without omit_members)'}; resident served ${remote.stats.pdusServed} PDUs`;
    if (!partial) {
      const floor = await joinFloor(remote, floorRoom);
      ctx.row({ figure: JOIN_FIGURE, value: joinMs, unit: 'ms', target: le(5000), ceiling: floor.joinMs, note: `${joinNote}; ${floorNote}` });
      ctx.notAvailable(RESYNC_FIGURE, 'events/s', ge(2000), `Parley joined with full state (send_join without omit_members), so there is nothing to resync: all ${MEMBERS} member events came with the join`);
      return;
    }
    // Partial state: poll the member list until it is complete.
    const want = MEMBERS + 2; // creator + members + the joiner
    let count = 0;
    let doneAt: number | undefined;
    const deadline = Date.now() + RESYNC_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const m = await request(t, 'GET', `/_matrix/client/v3/rooms/${enc(room.roomId)}/joined_members`, { token: u.accessToken, timeoutMs: 60_000 });
      if (m.status === 200) {
        count = Object.keys(m.json()?.joined ?? {}).length;
        if (count >= want) {
          doneAt = m.endAt;
          break;
        }
      }
      await sleep(250);
    }
    const seconds = ((doneAt ?? performance.timeOrigin + performance.now()) - joinedAt) / 1000;
    const fetched = `resident served ${remote.stats.pdusServed} PDUs in all (${Object.entries(remote.stats.counts).map(([k, v]) => `${k} ×${v}`).join(', ')})`;
    const floor = await joinFloor(remote, floorRoom);
    ctx.row({ figure: JOIN_FIGURE, value: joinMs, unit: 'ms', target: le(5000), ceiling: floor.joinMs, note: `${joinNote}; ${floorNote}` });
    ctx.row({
      figure: RESYNC_FIGURE,
      value: count / seconds,
      unit: 'events/s',
      target: ge(2000),
      ceiling: floor.resyncPerSecond,
      note: doneAt ? `${count} members known after ${seconds.toFixed(1)} s; ${fetched}` : `incomplete: ${count}/${want} members after ${seconds.toFixed(0)} s; ${fetched}`,
    });
  } finally {
    await server?.dispose();
    await remote.close();
  }
});

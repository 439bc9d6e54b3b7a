// Three department homeservers (hr, legal, eng) as real Parley processes federating over
// HTTPS on loopback with a test CA. A room made on hr is joined from legal and eng; what
// any member does reaches every server, and every server shows the same timeline and state.
// Spec: server-server-api.md "Joining Rooms", "Transactions", "PDUs", "EDUs", "Typing
// Notifications", "Receipts", "Redactions"; client-server-api "Room events",
// modules/event_replacements.md.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { createRoom, enc, expectOk, rawRequest, registerUser, txnId } from '../harness/http.js';
import { uniq } from '../harness/util.js';
import {
  assertCausalOrder,
  eventually,
  getEvent,
  getState,
  joinVia,
  putState,
  send,
  stateSummary,
  syncOnce,
  text,
  timeline,
  timelineIdsFrom,
  waitForEphemeral,
  waitForEvent,
  type Member,
} from './threeServers.js';

const fed = useFederatedServers(3);
let hrServer: FederatedServer;
let legalServer: FederatedServer;
let engServer: FederatedServer;
let alice: Member; // hr
let bob: Member; // legal
let carol: Member; // eng

before(async () => {
  [hrServer, legalServer, engServer] = await fed.ready();
  alice = { server: hrServer, user: await registerUser(hrServer, 'alice') };
  bob = { server: legalServer, user: await registerUser(legalServer, 'bob') };
  carol = { server: engServer, user: await registerUser(engServer, 'carol') };
});

const everyone = (): Member[] => [alice, bob, carol];
const others = (m: Member): Member[] => everyone().filter((o) => o !== m);

/** Waits until every member's server has the event. */
async function reachesEveryone(roomId: string, eventId: string, check?: (e: Record<string, unknown>) => boolean): Promise<void> {
  await Promise.all(everyone().map((m) => waitForEvent(m, roomId, eventId, check)));
}

/** A public room on hr, joined by bob from legal (via hr) and carol from eng (via legal). */
async function threeServerRoom(name: string): Promise<{ roomId: string; carolJoin: string }> {
  const roomId = await createRoom(hrServer, alice.user, { preset: 'public_chat', name });
  await joinVia(bob, roomId, [hrServer]);
  // Through legal, which is not the server that made the room.
  await joinVia(carol, roomId, [legalServer]);
  const carolJoin = (await getState(carol, roomId, 'm.room.member', carol.user.userId)) as Record<string, unknown> | undefined;
  assert.equal(carolJoin?.membership, 'join');
  // Every server sees all three joined.
  for (const m of everyone()) {
    await eventually(`${m.server.serverName} to see all three joined`, async () => {
      const res = await rawRequest(m.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, { token: m.user.accessToken });
      const joined = Object.keys(expectOk(res, 'joined_members').joined ?? {}).sort();
      return joined.length === 3 && joined.join() === [alice, bob, carol].map((x) => x.user.userId).sort().join();
    });
  }
  const join = await eventually('carol join event id', async () => {
    const res = await rawRequest(engServer, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`, { token: carol.user.accessToken });
    return (expectOk(res, 'state') as Array<Record<string, unknown>>).find((e) => e.type === 'm.room.member' && e.state_key === carol.user.userId)?.event_id as
      | string
      | undefined;
  });
  return { roomId, carolJoin: join };
}

/** Every server shows the same timeline from `fromEventId` on, and the same current state. */
async function assertSameRoom(roomId: string, fromEventId: string): Promise<string[]> {
  const timelines = await Promise.all(everyone().map((m) => timelineIdsFrom(m, roomId, fromEventId)));
  assert.deepEqual(timelines[1], timelines[0], `legal's timeline differs from hr's`);
  assert.deepEqual(timelines[2], timelines[0], `eng's timeline differs from hr's`);
  const states = await Promise.all(everyone().map((m) => stateSummary(m, roomId)));
  assert.deepEqual(states[1], states[0], `legal's /state differs from hr's`);
  assert.deepEqual(states[2], states[0], `eng's /state differs from hr's`);
  return timelines[0];
}

test('it should carry messages, an edit, a redaction, typing, receipts and state changes between three servers every way', async () => {
  const { roomId, carolJoin } = await threeServerRoom('HR general');
  const causal: Array<[string, string]> = [];

  // Messages: each server's user speaks once everyone has the previous message.
  const m1 = await text(alice, roomId, 'hello from hr');
  await reachesEveryone(roomId, m1, (e) => (e.content as Record<string, unknown>)?.body === 'hello from hr');
  const m2 = await text(bob, roomId, 'hello from legal');
  await reachesEveryone(roomId, m2, (e) => (e.content as Record<string, unknown>)?.body === 'hello from legal');
  const m3 = await text(carol, roomId, 'hello from eng');
  await reachesEveryone(roomId, m3, (e) => (e.content as Record<string, unknown>)?.body === 'hello from eng');
  causal.push([carolJoin, m1], [m1, m2], [m2, m3]);

  // An edit made on legal of legal's message: every server aggregates it as the replacement.
  const edit = await send(bob, roomId, {
    msgtype: 'm.text',
    body: '* hello from legal (edited)',
    'm.new_content': { msgtype: 'm.text', body: 'hello from legal (edited)' },
    'm.relates_to': { rel_type: 'm.replace', event_id: m2 },
  });
  await reachesEveryone(roomId, edit);
  causal.push([m3, edit]);
  for (const m of everyone()) {
    const res = await rawRequest(m.server, 'GET', `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(m2)}/m.replace`, { token: m.user.accessToken });
    const chunk = expectOk(res, `relations on ${m.server.serverName}`).chunk as Array<Record<string, unknown>>;
    assert.deepEqual(
      chunk.map((e) => e.event_id),
      [edit],
      `${m.server.serverName} lists the edit as a replacement of ${m2}`,
    );
  }

  // A redaction made on eng of eng's own message: every server strips its content.
  const redactRes = await rawRequest(engServer, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/redact/${enc(m3)}/${enc(txnId())}`, {
    token: carol.user.accessToken,
    body: { reason: 'oops' },
  });
  const redaction = expectOk(redactRes, 'redact').event_id as string;
  await reachesEveryone(roomId, redaction);
  causal.push([edit, redaction]);
  for (const m of everyone()) {
    const e = await waitForEvent(m, roomId, m3, (ev) => Object.keys(ev.content ?? {}).length === 0);
    assert.equal(e.unsigned?.redacted_because?.event_id, redaction, `${m.server.serverName} says what redacted ${m3}`);
  }

  // State from each server: topic on hr, bob raised to moderator by alice, room name by bob.
  const topic = await putState(alice, roomId, 'm.room.topic', { topic: 'Policies and people' });
  await reachesEveryone(roomId, topic);
  const pl = (await getState(alice, roomId, 'm.room.power_levels')) as Record<string, unknown>;
  const plEvent = await putState(alice, roomId, 'm.room.power_levels', { ...pl, users: { ...(pl.users as object), [bob.user.userId]: 50 } });
  await reachesEveryone(roomId, plEvent);
  const nameEvent = await putState(bob, roomId, 'm.room.name', { name: 'HR general (legal approved)' });
  await reachesEveryone(roomId, nameEvent);
  const carolPowerAttempt = await rawRequest(engServer, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`, {
    token: carol.user.accessToken,
    body: { ...pl, users: { ...(pl.users as object), [carol.user.userId]: 100 } },
  });
  assert.equal(carolPowerAttempt.status, 403, 'eng refuses its own user a power level change the room does not allow');
  causal.push([redaction, topic], [topic, plEvent], [plEvent, nameEvent]);
  for (const m of everyone()) {
    assert.equal((await getState(m, roomId, 'm.room.topic'))?.topic, 'Policies and people', `topic on ${m.server.serverName}`);
    assert.equal((await getState(m, roomId, 'm.room.name'))?.name, 'HR general (legal approved)', `name on ${m.server.serverName}`);
    assert.equal((await getState(m, roomId, 'm.room.power_levels'))?.users?.[bob.user.userId], 50, `bob's level on ${m.server.serverName}`);
  }

  // Typing from each server shows on the two others.
  for (const typist of everyone()) {
    const res = await rawRequest(typist.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/typing/${enc(typist.user.userId)}`, {
      token: typist.user.accessToken,
      body: { typing: true, timeout: 20_000 },
    });
    expectOk(res, 'typing');
    await Promise.all(
      others(typist).map((m) =>
        waitForEphemeral(
          m,
          roomId,
          (e) => e.type === 'm.typing' && (e.content?.user_ids ?? []).includes(typist.user.userId),
          `${typist.user.userId} typing on ${m.server.serverName}`,
        ),
      ),
    );
  }

  // A read receipt from each server shows on the two others.
  for (const reader of everyone()) {
    const res = await rawRequest(reader.server, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/m.read/${enc(nameEvent)}`, {
      token: reader.user.accessToken,
      body: {},
    });
    expectOk(res, 'receipt');
    await Promise.all(
      others(reader).map((m) =>
        waitForEphemeral(
          m,
          roomId,
          (e) => e.type === 'm.receipt' && e.content?.[nameEvent]?.['m.read']?.[reader.user.userId] !== undefined,
          `${reader.user.userId}'s receipt on ${m.server.serverName}`,
        ),
      ),
    );
  }

  // The same timeline (from carol's join, which every server has in its graph) and state everywhere.
  const order = await assertSameRoom(roomId, carolJoin);
  for (const id of [m1, m2, m3, edit, redaction, topic, plEvent, nameEvent]) assert.ok(order.includes(id), `timeline has ${id}`);
  assertCausalOrder(order, causal, 'hr');
});

/** Sets power levels from the current event, changing `users`. */
async function setUserLevels(by: Member, roomId: string, users: Record<string, number>): Promise<string> {
  const pl = (await getState(by, roomId, 'm.room.power_levels')) as Record<string, unknown>;
  return putState(by, roomId, 'm.room.power_levels', { ...pl, users: { ...(pl.users as object), ...users } });
}

/** The m.room.message events of the room on `m`'s server, oldest first. */
async function messageIds(m: Member, roomId: string): Promise<string[]> {
  return (await timeline(m, roomId)).filter((e) => e.type === 'm.room.message').map((e) => e.event_id as string);
}

test('it should converge all three servers to the same resolved state after a partition with conflicting changes on both sides', async () => {
  const { roomId } = await threeServerRoom('Partitioned');
  const ed: Member = { server: engServer, user: await registerUser(engServer, uniq('ed')) };
  await joinVia(ed, roomId, [hrServer]);
  // Before the partition: bob and carol are moderators (50: topic, name, ban); ed is a member.
  const plBase = await setUserLevels(alice, roomId, { [bob.user.userId]: 50, [carol.user.userId]: 50 });
  await reachesEveryone(roomId, plBase);
  const base = await text(alice, roomId, 'before the partition');
  await reachesEveryone(roomId, base);

  // Phase 1: eng is down. hr and legal act at the same moment (a fork between them too):
  // alice demotes carol, sets the topic and bans ed; bob renames the room.
  await engServer.server.stop();
  const [h1, l1] = await Promise.all([text(alice, roomId, 'hr during the partition 1'), text(bob, roomId, 'legal during the partition 1')]);
  const [plHr, nameLegal] = await Promise.all([
    setUserLevels(alice, roomId, { [carol.user.userId]: 0 }),
    putState(bob, roomId, 'm.room.name', { name: 'Renamed by legal' }),
  ]);
  const topicHr = await putState(alice, roomId, 'm.room.topic', { topic: 'topic from hr' });
  const banRes = await rawRequest(hrServer, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/ban`, {
    token: alice.user.accessToken,
    body: { user_id: ed.user.userId, reason: 'partition test' },
  });
  expectOk(banRes, 'ban ed');
  const banEd = (await stateSummary(alice, roomId)).find((l) => l.startsWith(`m.room.member|${ed.user.userId}|`))?.split('|')[2];
  assert.ok(banEd !== undefined && (await getState(alice, roomId, 'm.room.member', ed.user.userId))?.membership === 'ban', 'ed is banned on hr');
  const [h2, l2] = await Promise.all([text(alice, roomId, 'hr during the partition 2'), text(bob, roomId, 'legal during the partition 2')]);
  for (const id of [h1, l1, plHr, nameLegal, topicHr, banEd, h2, l2]) {
    await Promise.all([alice, bob].map((m) => waitForEvent(m, roomId, id)));
  }

  // Phase 2: hr and legal are down, eng is back. carol (still a moderator on eng's side)
  // sets the topic; ed (not yet banned on eng's side) changes his member event.
  await Promise.all([hrServer.server.stop(), legalServer.server.stop()]);
  await engServer.server.restart();
  const e1 = await text(carol, roomId, 'eng during the partition 1');
  const topicEng = await putState(carol, roomId, 'm.room.topic', { topic: 'topic from eng' });
  const edRename = await putState(ed, roomId, 'm.room.member', { membership: 'join', displayname: 'Ed of eng' }, ed.user.userId);
  const e2 = await text(carol, roomId, 'eng during the partition 2');
  assert.equal((await getState(carol, roomId, 'm.room.topic'))?.topic, 'topic from eng', "eng's own view during the partition");

  // Heal: everyone is up again.
  await Promise.all([hrServer.server.restart(), legalServer.server.restart()]);

  // State resolution v2 on every server: the demotion and the ban (power events) win, so
  // carol's topic and ed's member change no longer pass auth: hr's topic, legal's name, ed banned.
  for (const m of everyone()) {
    await eventually(
      `${m.server.serverName} to resolve the partition's state`,
      async () => {
        const topic = (await getState(m, roomId, 'm.room.topic'))?.topic;
        const edState = await getState(m, roomId, 'm.room.member', ed.user.userId);
        const name = (await getState(m, roomId, 'm.room.name'))?.name;
        const carolLevel = (await getState(m, roomId, 'm.room.power_levels'))?.users?.[carol.user.userId];
        if (topic === 'topic from hr' && edState?.membership === 'ban' && name === 'Renamed by legal' && carolLevel === 0) return true;
        throw new Error(`it shows topic ${topic}, ed ${edState?.membership}, name ${name}, carol's level ${carolLevel}`);
      },
      90_000,
    );
  }
  // The same resolved state everywhere.
  await eventually(
    'the same /state on all three servers',
    async () => {
      const states = await Promise.all(everyone().map((m) => stateSummary(m, roomId)));
      return JSON.stringify(states[1]) === JSON.stringify(states[0]) && JSON.stringify(states[2]) === JSON.stringify(states[0]);
    },
    30_000,
  );
  const stateHr = await stateSummary(alice, roomId);
  assert.ok(stateHr.includes(`m.room.topic||${topicHr}`), 'resolved topic is the hr one');
  assert.ok(stateHr.includes(`m.room.power_levels||${plHr}`), 'resolved power levels are the hr ones');
  assert.ok(!stateHr.some((l) => l.endsWith(`|${topicEng}`) || l.endsWith(`|${edRename}`)), 'neither of eng’s overruled events is current state');
  assert.ok(stateHr.includes(`m.room.member|${ed.user.userId}|${banEd}`), 'ed’s membership is the ban');

  // After the heal, each server speaks once more; every message is everywhere, in DAG order.
  // hr speaks first: its message follows eng's in the DAG only once hr has them (the state
  // above converges without them). legal may still lack them: it fetches them as missing events.
  for (const id of [e1, e2]) await waitForEvent(alice, roomId, id, undefined, 60_000);
  const healed: string[] = [];
  for (const m of everyone()) {
    const id = await text(m, roomId, `healed, from ${m.server.serverName}`);
    await reachesEveryone(roomId, id);
    healed.push(id);
  }
  const partition = [base, h1, h2, l1, l2, e1, e2];
  const causal: Array<[string, string]> = [
    [base, h1],
    [h1, h2],
    [base, l1],
    [l1, l2],
    [base, e1],
    [e1, e2],
    ...partition.map((id): [string, string] => [id, healed[0]]),
    [healed[0], healed[1]],
    [healed[1], healed[2]],
  ];
  const all = [...partition, ...healed].sort();
  for (const m of everyone()) {
    const ids = await messageIds(m, roomId);
    assert.deepEqual(
      ids.filter((id) => all.includes(id)).sort(),
      all,
      `${m.server.serverName} shows every message of the partition exactly once`,
    );
    assert.equal(new Set(ids).size, ids.length, `${m.server.serverName} shows no message twice`);
    assertCausalOrder(ids, causal, m.server.serverName);
  }
});

test('it should deliver the events in a stopped server’s outgoing queue once it is restarted', async () => {
  const { roomId } = await threeServerRoom('Queued');
  await legalServer.server.stop();
  const queued = [await text(alice, roomId, 'queued 1'), await text(alice, roomId, 'queued 2'), await text(alice, roomId, 'queued 3')];
  // eng has them, so hr did send; legal, down, could not.
  for (const id of queued) await waitForEvent(carol, roomId, id);
  await hrServer.server.stop();
  await legalServer.server.restart();
  for (const id of queued) assert.equal(await getEvent(bob, roomId, id), undefined, 'legal has not got the queued events while hr is down');
  await hrServer.server.restart();
  // hr's persisted queue for legal is sent after the restart, with no new activity in the room.
  for (const id of queued) await waitForEvent(bob, roomId, id, undefined, 60_000);
  const ids = await messageIds(bob, roomId);
  assertCausalOrder(ids, [[queued[0], queued[1]], [queued[1], queued[2]]], 'legal');
});

test('it should deliver an event whose server was killed right after accepting it', async () => {
  const { roomId } = await threeServerRoom('Killed');
  const sent = await text(alice, roomId, 'sent just before the crash');
  await hrServer.server.kill9();
  await hrServer.server.restart();
  for (const m of [bob, carol]) await waitForEvent(m, roomId, sent, undefined, 60_000);
});

test('it should invite a user of another server into a private room, show the invite there, and let them join through it', async () => {
  const dave: Member = { server: legalServer, user: await registerUser(legalServer, uniq('dave')) };
  const roomId = await createRoom(hrServer, alice.user, { preset: 'private_chat', name: 'HR private', topic: 'only invited' });
  // Not invited yet: legal cannot join the invite-only room through hr.
  const refused = await rawRequest(legalServer, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=${enc(hrServer.serverName)}`, {
    token: dave.user.accessToken,
    body: {},
  });
  assert.equal(refused.status, 403, refused.text);
  const inv = await rawRequest(hrServer, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { token: alice.user.accessToken, body: { user_id: dave.user.userId } });
  expectOk(inv, 'invite dave');
  assert.equal((await getState(alice, roomId, 'm.room.member', dave.user.userId))?.membership, 'invite');
  // legal shows the invite in /sync with the room's name from the invite state.
  const invited = await eventually('the invite in dave’s sync', async () => {
    const body = await syncOnce(dave);
    return body.rooms?.invite?.[roomId] as { invite_state: { events: Array<Record<string, any>> } } | undefined;
  });
  const names = invited.invite_state.events.filter((e) => e.type === 'm.room.name').map((e) => e.content.name);
  assert.deepEqual(names, ['HR private']);
  assert.ok(invited.invite_state.events.some((e) => e.type === 'm.room.member' && e.state_key === dave.user.userId && e.content.membership === 'invite'));
  // Accepting: no server given, legal joins through the inviter's server.
  const joined = await rawRequest(legalServer, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: dave.user.accessToken, body: {} });
  expectOk(joined, 'dave accepts the invite');
  const hello = await text(dave, roomId, 'thanks for the invite');
  await waitForEvent(alice, roomId, hello);
  assert.equal((await getState(alice, roomId, 'm.room.member', dave.user.userId))?.membership, 'join');
});

test('it should show the profile of a user of another server', async () => {
  const set = await rawRequest(legalServer, 'PUT', `/_matrix/client/v3/profile/${enc(bob.user.userId)}/displayname`, {
    token: bob.user.accessToken,
    body: { displayname: 'Bob from Legal' },
  });
  expectOk(set, 'set displayname');
  const res = await rawRequest(hrServer, 'GET', `/_matrix/client/v3/profile/${enc(bob.user.userId)}`, { token: alice.user.accessToken });
  assert.equal(expectOk(res, 'remote profile').displayname, 'Bob from Legal');
  const missing = await rawRequest(hrServer, 'GET', `/_matrix/client/v3/profile/${enc(`@nobody:${legalServer.serverName}`)}`, { token: alice.user.accessToken });
  assert.equal(missing.status, 404, missing.text);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import { type StateKey, stateKeyOf } from '../types.js';
import { ALICE, BOB, CAROL, DAVE, RoomFixture, type State, member } from './fixtures.js';
import { MissingEventError, resolveState } from './resolveState.js';

const v11 = roomVersion('11')!;
const v12 = roomVersion('12')!;
const PL = stateKeyOf('m.room.power_levels', '');
const TOPIC = stateKeyOf('m.room.topic', '');
const memberKey = (u: string) => stateKeyOf('m.room.member', u);

const resolve = (fx: RoomFixture, stateSets: State[], rules: RoomVersionRules = fx.rules) =>
  resolveState({ stateSets: stateSets as Map<StateKey, string>[], getEvent: fx.getEvent, rules });

for (const rules of [v11, v12]) {
  test(`it should reject a ban by a moderator whose power was concurrently removed, even if the ban came first (room ${rules.id})`, () => {
    const fx = new RoomFixture(rules);
    let base = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
    base = fx.send(base, member(BOB, BOB, 'join'));
    base = fx.send(base, member(CAROL, CAROL, 'join', { id: '$carolJoin' }));
    const demoted = fx.send(base, { id: '$demote', type: 'm.room.power_levels', stateKey: '', sender: ALICE, ts: 200, content: { users: rules.privilegedCreators ? {} : { [ALICE]: 100 } } });
    const banned = fx.send(base, member(BOB, CAROL, 'ban', { id: '$ban', ts: 100 }));

    for (const sets of [[demoted, banned], [banned, demoted]]) {
      const out = resolve(fx, sets);
      assert.equal(out.get(PL), '$demote');
      assert.equal(out.get(memberKey(CAROL)), '$carolJoin');
    }
  });

  test(`it should keep both of two concurrent joins to a public room (room ${rules.id})`, () => {
    const fx = new RoomFixture(rules);
    const base = fx.createRoom(ALICE);
    const withBob = fx.send(base, member(BOB, BOB, 'join', { id: '$bob' }));
    const withCarol = fx.send(base, member(CAROL, CAROL, 'join', { id: '$carol' }));
    const out = resolve(fx, [withBob, withCarol]);
    assert.equal(out.get(memberKey(BOB)), '$bob');
    assert.equal(out.get(memberKey(CAROL)), '$carol');
    for (const [k, id] of base) assert.equal(out.get(k), id);
    assert.equal(out.size, base.size + 2);
  });
}

test('it should settle a topic fork on the later topic when both cite the same power levels', () => {
  const fx = new RoomFixture(v11);
  let base = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  const a = fx.send(base, { id: '$alice', type: 'm.room.topic', stateKey: '', sender: ALICE, ts: 200, content: { topic: 'a' } });
  const b = fx.send(base, { id: '$bob', type: 'm.room.topic', stateKey: '', sender: BOB, ts: 300, content: { topic: 'b' } });
  // Power does not matter for topics: Alice outranks Bob, yet his later topic is kept.
  assert.equal(resolve(fx, [a, b]).get(TOPIC), '$bob');
  assert.equal(resolve(fx, [b, a]).get(TOPIC), '$bob');
});

test('it should settle a topic fork by the mainline before the timestamp', () => {
  const fx = new RoomFixture(v11);
  let base = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  let a = fx.send(base, { id: '$pl2', type: 'm.room.power_levels', stateKey: '', sender: ALICE, ts: 10, content: { users: { [ALICE]: 100, [BOB]: 50 }, state_default: 40 } });
  a = fx.send(a, { id: '$newer', type: 'm.room.topic', stateKey: '', sender: ALICE, ts: 20, content: { topic: 'on new power levels' } });
  const b = fx.send(base, { id: '$older', type: 'm.room.topic', stateKey: '', sender: BOB, ts: 30, content: { topic: 'on old power levels' } });
  const out = resolve(fx, [a, b]);
  assert.equal(out.get(PL), '$pl2');
  assert.equal(out.get(TOPIC), '$newer'); // its power levels are later on the mainline, though its timestamp is earlier
});

test('it should settle a forked room creation on one whole fork, whichever order the states arrive in', () => {
  const fx = new RoomFixture(v11);
  const first = fx.createRoom(ALICE, { createId: '$create1', ts: 1 });
  const second = fx.createRoom(ALICE, { createId: '$create2', ts: 5, joinRule: 'invite' });
  const out = resolve(fx, [first, second]);
  assert.deepEqual(resolve(fx, [second, first]), out);
  // Both create events pass auth on their own, so the one ordered last (the later) holds,
  // and each event of its fork then passes against it.
  assert.deepEqual(out, second);
});

test('it should resolve a room still being created to its most complete state', () => {
  const fx = new RoomFixture(v12);
  const full = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  const justCreated = new Map([...full].slice(0, 2)); // create and Alice's join only
  assert.deepEqual(resolve(fx, [justCreated, full]), full);
  assert.deepEqual(resolve(fx, [full, justCreated]), full);
});

test('it should let a v12 room keep power levels set by an admin who has since left, where v2 would drop them', () => {
  // Bob (admin) changes the power levels while Alice concurrently does too; Bob then
  // leaves, and both sides know it. His leave is unconflicted state, and v2 re-checks his
  // power levels against it (he is no longer joined, so they fail); v2.1 starts from an
  // empty state and checks them against their own auth events instead (rooms/v12.md).
  const fx = new RoomFixture(v12);
  let base = fx.createRoom(ALICE, { users: { [BOB]: 100 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  const byAlice = fx.send(base, { id: '$byAlice', type: 'm.room.power_levels', stateKey: '', sender: ALICE, ts: 10, content: { users: { [BOB]: 100 }, state_default: 60 } });
  const byBob = fx.send(base, { id: '$byBob', type: 'm.room.power_levels', stateKey: '', sender: BOB, ts: 20, content: { users: { [BOB]: 100, [DAVE]: 50 } } });
  fx.send(base, member(BOB, BOB, 'leave', { id: '$bobLeft', ts: 30 }));
  const sets = [new Map(byAlice).set(memberKey(BOB), '$bobLeft'), new Map(byBob).set(memberKey(BOB), '$bobLeft')];

  const v21 = resolve(fx, sets, v12);
  const v2 = resolve(fx, sets, { ...v12, stateRes: 'v2' });
  assert.equal(v21.get(PL), '$byBob');
  assert.equal(v2.get(PL), '$byAlice');
  assert.equal(v21.get(memberKey(BOB)), '$bobLeft');
  assert.equal(v2.get(memberKey(BOB)), '$bobLeft');
});

test('it should re-check power levels through the intermediate ones in v12, where v2 would skip them', () => {
  // $pl1 (Bob 50) ← $pl2 (Bob 100) ← $pl3 (Bob sets Carol to 80). One side holds $pl3, the
  // other — after an earlier reset — holds $pl1, though its topic cites $pl2, so $pl2 is in
  // both auth chains and not in the auth difference. v2.1 adds it back as part of the
  // conflicted state subgraph (rooms/v12.md), so $pl3 is checked against $pl2 and stands;
  // v2 checks $pl3 against $pl1, where Bob cannot grant 80.
  const fx = new RoomFixture(v12);
  let s = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  s = fx.send(s, member(BOB, BOB, 'join'));
  const pl1 = s.get(PL)!;
  s = fx.send(s, { id: '$pl2', type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [BOB]: 100 } } });
  s = fx.send(s, { id: '$topic', type: 'm.room.topic', stateKey: '', sender: BOB, content: { topic: 'x' } });
  const a = fx.send(s, { id: '$pl3', type: 'm.room.power_levels', stateKey: '', sender: BOB, content: { users: { [BOB]: 100, [CAROL]: 80 } } });
  const b = new Map(s).set(PL, pl1);

  assert.equal(resolve(fx, [a, b], v12).get(PL), '$pl3');
  assert.equal(resolve(fx, [a, b], { ...v12, stateRes: 'v2' }).get(PL), pl1);
});

test('it should return identical state sets unchanged', () => {
  const fx = new RoomFixture(v11);
  const s = fx.createRoom(ALICE);
  assert.deepEqual(resolve(fx, [s, new Map(s)]), s);
});

test('it should resolve room version 1 with its own algorithm (resolveV1.test.ts has the details)', () => {
  const fx = new RoomFixture(roomVersion('1')!);
  const base = fx.createRoom(ALICE);
  const a = fx.send(base, member(BOB, BOB, 'join', { id: '$bob' }));
  // v1 counts only disagreement as a conflict: a key one set lacks is kept as is.
  assert.equal(resolve(fx, [a, base]).get(memberKey(BOB)), '$bob');
});

test('it should name the missing event when the caller did not provide one', () => {
  const fx = new RoomFixture(v11);
  const base = fx.createRoom(ALICE);
  const a = fx.send(base, member(BOB, BOB, 'join'));
  const b = fx.send(base, member(CAROL, CAROL, 'join'));
  fx.events.delete('$e2'); // the power levels event both joins cite
  assert.throws(() => resolve(fx, [a, b]), (err: unknown) => err instanceof MissingEventError && err.eventId === '$e2');
});

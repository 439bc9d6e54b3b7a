// State resolution v1 (rooms/v1.md "State resolution") on hand-made DAGs, through the
// public resolveState entry point with room version 1 rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { roomVersion } from '../roomVersions.js';
import { type StateKey, stateKeyOf } from '../types.js';
import { ALICE, BOB, CAROL, DAVE, RoomFixture, type State, member } from './fixtures.js';
import { resolveState } from './resolveState.js';
import { splitV1 } from './resolveV1.js';

const v1 = roomVersion('1')!;
const PL = stateKeyOf('m.room.power_levels', '');
const TOPIC = stateKeyOf('m.room.topic', '');
const NAME = stateKeyOf('m.room.name', '');
const memberKey = (u: string) => stateKeyOf('m.room.member', u);
const resolve = (fx: RoomFixture, sets: State[]) => resolveState({ stateSets: sets as Map<StateKey, string>[], getEvent: fx.getEvent, rules: v1 });
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

test('it should let a demotion win over a concurrent ban by the demoted moderator (room 1)', () => {
  const fx = new RoomFixture(v1, '$create:a.example');
  let base = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  base = fx.send(base, member(CAROL, CAROL, 'join', { id: '$carolJoin' }));
  const demoted = fx.send(base, { id: '$demote', type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [ALICE]: 100 } } });
  const banned = fx.send(base, member(BOB, CAROL, 'ban', { id: '$ban' }));
  for (const sets of [[demoted, banned], [banned, demoted]]) {
    const out = resolve(fx, sets);
    assert.equal(out.get(PL), '$demote');
    assert.equal(out.get(memberKey(CAROL)), '$carolJoin', 'the ban is not allowed once Bob has no power');
  }
});

test('it should keep a ban by a moderator whose power nobody disputed (room 1)', () => {
  const fx = new RoomFixture(v1, '$create:a.example');
  let base = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  base = fx.send(base, member(CAROL, CAROL, 'join', { id: '$carolJoin' }));
  const banned = fx.send(base, member(BOB, CAROL, 'ban', { id: '$ban' }));
  const topic = fx.send(base, { id: '$topic', type: 'm.room.topic', stateKey: '', sender: ALICE, content: { topic: 'x' } });
  const out = resolve(fx, [banned, topic]);
  assert.equal(out.get(memberKey(CAROL)), '$ban');
  assert.equal(out.get(TOPIC), '$topic', 'a key only one side has is not a conflict');
});

test('it should keep both of two concurrent joins and take the deeper of two allowed topics (room 1)', () => {
  const fx = new RoomFixture(v1, '$create:a.example');
  const base = fx.createRoom(ALICE);
  const a = fx.send(fx.send(base, member(BOB, BOB, 'join', { id: '$bob' })), { id: '$topicOld', type: 'm.room.topic', stateKey: '', sender: ALICE, content: { topic: 'old' } });
  const b = fx.send(fx.send(base, member(CAROL, CAROL, 'join', { id: '$carol' })), { id: '$topicNew', type: 'm.room.topic', stateKey: '', sender: ALICE, content: { topic: 'new' } });
  const out = resolve(fx, [a, b]);
  assert.equal(out.get(memberKey(BOB)), '$bob');
  assert.equal(out.get(memberKey(CAROL)), '$carol');
  assert.equal(out.get(TOPIC), '$topicNew');
});

test('it should pass over a deeper state event its sender may no longer send (room 1)', () => {
  const fx = new RoomFixture(v1, '$create:a.example');
  let base = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  // Alice demotes Bob; on the other side Bob, still a moderator, renames the room later (deeper).
  const demoted = fx.send(base, { id: '$demote', type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [ALICE]: 100 } } });
  const withAliceName = fx.send(demoted, { id: '$nameAlice', type: 'm.room.name', stateKey: '', sender: ALICE, content: { name: 'A' } });
  const withBobName = fx.send(base, { id: '$nameBob', type: 'm.room.name', stateKey: '', sender: BOB, content: { name: 'B' } });
  const out = resolve(fx, [withAliceName, withBobName]);
  assert.equal(out.get(PL), '$demote');
  assert.equal(out.get(NAME), '$nameAlice', "Bob's deeper name fails auth against the resolved power levels");
});

test('it should break depth ties by sha1 of the event ID: lowest wins for ordinary state (room 1)', () => {
  const fx = new RoomFixture(v1, '$create:a.example');
  const base = fx.createRoom(ALICE);
  const ids = ['$t1:a.example', '$t2:a.example', '$t3:a.example'];
  const sets = ids.map((id) => fx.send(base, { id, type: 'm.room.topic', stateKey: '', sender: ALICE, content: { topic: id } }));
  for (const id of ids) fx.event(id).pdu.depth = 10;
  const lowest = [...ids].sort((x, y) => (sha1(x) < sha1(y) ? -1 : 1))[0];
  assert.equal(resolve(fx, sets).get(TOPIC), lowest);
  assert.equal(resolve(fx, [...sets].reverse()).get(TOPIC), lowest);
});

test('it should apply conflicting power levels oldest first, stopping at the first not allowed (room 1)', () => {
  const fx = new RoomFixture(v1, '$create:a.example');
  let base = fx.createRoom(ALICE, { users: { [BOB]: 100, [DAVE]: 50 } });
  base = fx.send(base, member(BOB, BOB, 'join'));
  base = fx.send(base, member(DAVE, DAVE, 'join'));
  // Bob removes Alice's power; concurrently Dave (50) tries to make himself 100: not allowed.
  const byBob = fx.send(base, { id: '$plBob', type: 'm.room.power_levels', stateKey: '', sender: BOB, content: { users: { [BOB]: 100, [DAVE]: 50 } } });
  const byDave = fx.send(base, { id: '$plDave', type: 'm.room.power_levels', stateKey: '', sender: DAVE, content: { users: { [ALICE]: 100, [BOB]: 100, [DAVE]: 100 } } });
  assert.equal(resolve(fx, [byBob, byDave]).get(PL), '$plBob');
});

test('it should split state sets the v1 way: only disagreement is a conflict', () => {
  const a = new Map<StateKey, string>([[TOPIC, '$x'], [NAME, '$n']]);
  const b = new Map<StateKey, string>([[TOPIC, '$y']]);
  const { unconflicted, conflicted } = splitV1([a, b]);
  assert.deepEqual([...unconflicted], [[NAME, '$n']]);
  assert.deepEqual([...conflicted], [[TOPIC, ['$x', '$y']]]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import { stateKeyOf } from '../types.js';
import { ALICE, BOB, CAROL, RoomFixture, member } from './fixtures.js';
import { iterativeAuthChecks } from './iterativeAuth.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const v11 = roomVersion('11')!;
const v12 = roomVersion('12')!;
const TOPIC = stateKeyOf('m.room.topic', '');
const memberKey = (u: string) => stateKeyOf('m.room.member', u);

/** Alice 100, Bob 50, both joined; Bob sets a topic. */
function room(rules: RoomVersionRules = v11) {
  const fx = new RoomFixture(rules);
  let s = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  s = fx.send(s, member(BOB, BOB, 'join', { id: '$bobJoin' }));
  const before = s;
  s = fx.send(s, { id: '$bobTopic', type: 'm.room.topic', stateKey: '', sender: BOB, content: { topic: 'b' } });
  const run = (initial: Map<string, string>, ids: string[], isRejected?: (id: string) => boolean) =>
    runToEnd(iterativeAuthChecks(initial, ids, { getEvent: fx.getEvent, rules, isRejected }, NEVER_YIELD));
  return { fx, before, after: s, run };
}

test('it should apply events the auth rules allow and skip the others', () => {
  const { fx, before, run } = room();
  const withCarol = fx.send(before, member(CAROL, CAROL, 'join', { id: '$carolJoin' }));
  fx.send(withCarol, { id: '$carolTopic', type: 'm.room.topic', stateKey: '', sender: CAROL, content: { topic: 'c' } });
  const out = run(new Map(withCarol), ['$bobTopic', '$carolTopic']);
  assert.equal(out.get(TOPIC), '$bobTopic'); // Carol (power 0) may not set the topic
});

test('it should fall back to the event’s own auth events for state it does not have yet', () => {
  const { run } = room();
  const out = run(new Map(), ['$bobTopic']);
  assert.deepEqual([...out], [[TOPIC, '$bobTopic']]);
});

test('it should prefer the state being built over the event’s auth events', () => {
  const { fx, before, run } = room();
  const banned = fx.send(before, member(ALICE, BOB, 'ban', { id: '$ban' }));
  const out = run(new Map(banned), ['$bobTopic']);
  assert.equal(out.get(TOPIC), undefined);
  assert.equal(out.get(memberKey(BOB)), '$ban');
});

test('it should not fall back to an auth event that was rejected', () => {
  const { run } = room();
  const out = run(new Map(), ['$bobTopic'], (id) => id === '$bobJoin');
  assert.equal(out.has(TOPIC), false);
});

test('it should find a v12 room’s create event from the room ID', () => {
  const { run } = room(v12);
  const out = run(new Map(), ['$bobTopic']);
  assert.equal(out.get(TOPIC), '$bobTopic');
});

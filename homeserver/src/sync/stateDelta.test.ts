import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lazyLoadMembers, stateDelta } from './stateDelta.js';

const K = (type: string, sk = '') => `${type}\u0000${sk}`;
const map = (o: Record<string, string>) => new Map(Object.entries(o));

describe('sync state', () => {
  const start = map({ [K('m.room.create')]: '$c', [K('m.room.name')]: '$n1', [K('m.room.member', '@a:x')]: '$ma' });

  it('it should give the whole state at the timeline start for a full sync, minus timeline events', () => {
    const out = stateDelta({ start, timelineIds: new Set(['$n1']) });
    assert.deepEqual([...out.values()].sort(), ['$c', '$ma']);
  });

  it('it should give only what changed since the token on an incremental sync', () => {
    const previous = map({ [K('m.room.create')]: '$c', [K('m.room.name')]: '$n0', [K('m.room.member', '@a:x')]: '$ma' });
    assert.deepEqual([...stateDelta({ start, previous, timelineIds: new Set() }).values()], ['$n1']);
  });

  it('it should be empty when nothing changed before the timeline', () => {
    assert.equal(stateDelta({ start, previous: new Map(start), timelineIds: new Set() }).size, 0);
  });

  it('it should send a state change the timeline filter hid', () => {
    const end = map({ ...Object.fromEntries(start), [K('m.room.name')]: '$n2', [K('m.room.topic')]: '$t' });
    const out = stateDelta({ start, end, previous: new Map(start), timelineIds: new Set() });
    assert.deepEqual([...out.values()].sort(), ['$n2', '$t']);
  });

  it('it should not send the newer event when the timeline carries it', () => {
    const end = map({ ...Object.fromEntries(start), [K('m.room.name')]: '$n2' });
    const out = stateDelta({ start, end, previous: new Map(), timelineIds: new Set(['$n2']) });
    assert.equal(out.get(K('m.room.name')), '$n1');
  });

  it('it should lazy-load only the members of timeline senders and the wanted users', () => {
    const full = map({ [K('m.room.create')]: '$c', [K('m.room.member', '@a:x')]: '$ma', [K('m.room.member', '@b:x')]: '$mb' });
    const out = lazyLoadMembers(full, { wanted: new Set(['@b:x']), start: full, timelineIds: new Set(), incremental: false });
    assert.deepEqual([...out.values()].sort(), ['$c', '$mb']);
  });

  it('it should keep member changes of a gap when lazy-loading an incremental sync', () => {
    const delta = map({ [K('m.room.member', '@a:x')]: '$ma2' });
    const startState = map({ [K('m.room.member', '@a:x')]: '$ma2', [K('m.room.member', '@s:x')]: '$ms' });
    const out = lazyLoadMembers(delta, { wanted: new Set(['@s:x']), start: startState, timelineIds: new Set(), incremental: true });
    assert.deepEqual([...out.values()].sort(), ['$ma2', '$ms']);
  });
});

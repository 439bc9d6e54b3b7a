import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterSchema, type RoomEventFilterJson } from './filter.js';
import { compileFilter, compileRoomEventFilter, globToRegExp, projectFields, splitFieldPath } from './filterMatch.js';

const ev = (type: string, sender = '@a:x', extra: { roomId?: string; content?: unknown } = {}) => ({ type, sender, ...extra });

describe('event filters', () => {
  const cases: Array<[string, RoomEventFilterJson, ReturnType<typeof ev>, boolean]> = [
    ['no filter matches everything', {}, ev('m.room.message'), true],
    ['types: exact type', { types: ['m.room.message'] }, ev('m.room.message'), true],
    ['types: other type', { types: ['m.room.message'] }, ev('m.room.member'), false],
    ['types: empty list matches nothing', { types: [] }, ev('m.room.message'), false],
    ['types: * glob', { types: ['m.room.*'] }, ev('m.room.topic'), true],
    ['types: glob is anchored', { types: ['m.room.*'] }, ev('xm.room.topic'), false],
    ['types: glob dot is literal', { types: ['m.room.*'] }, ev('mXroomXtopic'), false],
    ['types: * alone', { types: ['*'] }, ev('anything.at.all'), true],
    ['types: glob in the middle', { types: ['m.*.message'] }, ev('m.room.message'), true],
    ['not_types excludes', { not_types: ['m.room.member'] }, ev('m.room.member'), false],
    ['not_types wins over types', { types: ['m.room.*'], not_types: ['m.room.member'] }, ev('m.room.member'), false],
    ['not_types glob', { not_types: ['m.call.*'] }, ev('m.call.invite'), false],
    ['senders include', { senders: ['@a:x'] }, ev('m.room.message', '@a:x'), true],
    ['senders exclude others', { senders: ['@a:x'] }, ev('m.room.message', '@b:x'), false],
    ['not_senders wins over senders', { senders: ['@a:x'], not_senders: ['@a:x'] }, ev('m.room.message', '@a:x'), false],
    ['rooms include', { rooms: ['!r:x'] }, ev('m.room.message', '@a:x', { roomId: '!r:x' }), true],
    ['rooms exclude others', { rooms: ['!r:x'] }, ev('m.room.message', '@a:x', { roomId: '!s:x' }), false],
    ['not_rooms wins over rooms', { rooms: ['!r:x'], not_rooms: ['!r:x'] }, ev('m.room.message', '@a:x', { roomId: '!r:x' }), false],
    ['contains_url true wants a url', { contains_url: true }, ev('m.room.message', '@a:x', { content: { url: 'mxc://x/y' } }), true],
    ['contains_url true drops no url', { contains_url: true }, ev('m.room.message', '@a:x', { content: { body: 'hi' } }), false],
    ['contains_url false drops url', { contains_url: false }, ev('m.room.message', '@a:x', { content: { url: 'mxc://x/y' } }), false],
    ['contains_url false keeps no url', { contains_url: false }, ev('m.room.message', '@a:x', { content: {} }), true],
    ['contains_url needs a string url', { contains_url: true }, ev('m.room.message', '@a:x', { content: { url: 5 } }), false],
  ];
  for (const [name, filter, event, expected] of cases) {
    it(`it should decide "${name}"`, () => {
      assert.equal(compileRoomEventFilter(filter).matches(event), expected);
    });
  }

  it('it should treat regex characters in globs literally', () => {
    assert.ok(globToRegExp('a+b*').test('a+bcd'));
    assert.ok(!globToRegExp('a+b*').test('aab'));
  });
});

describe('filter documents', () => {
  it('it should accept the example filter of filter.yaml and keep unknown fields', () => {
    const json = {
      room: {
        state: { types: ['m.room.*'], not_rooms: ['!726s6s6q:example.com'] },
        timeline: { limit: 10, types: ['m.room.message'], not_rooms: ['!726s6s6q:example.com'], not_senders: ['@spam:example.com'] },
        ephemeral: { types: ['m.receipt', 'm.typing'], not_rooms: ['!726s6s6q:example.com'], not_senders: ['@spam:example.com'] },
      },
      presence: { types: ['m.presence'], not_senders: ['@alice:example.com'] },
      event_format: 'client',
      event_fields: ['type', 'content', 'sender'],
      'org.example.extension': true,
    };
    const parsed = filterSchema.parse(json);
    assert.deepEqual(parsed, json);
  });

  it('it should reject malformed filters', () => {
    for (const bad of [
      { room: { timeline: { limit: 'ten' } } },
      { room: { timeline: { limit: -1 } } },
      { room: { timeline: { limit: 2.5 } } },
      { room: { rooms: ['not-a-room'] } },
      { room: { timeline: { senders: ['alice'] } } },
      { event_format: 'xml' },
      { event_fields: ['content\\body'] },
      { room: { include_leave: 'yes' } },
      { presence: { types: 'm.presence' } },
    ]) {
      assert.equal(filterSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it('it should compile room, include_leave and per-section filters', () => {
    const f = compileFilter(
      filterSchema.parse({
        room: { not_rooms: ['!b:x'], include_leave: true, timeline: { limit: 3, lazy_load_members: true }, state: { lazy_load_members: true } },
        account_data: { not_types: ['m.push_rules'] },
      }),
    );
    assert.equal(f.room.matchesRoom('!a:x'), true);
    assert.equal(f.room.matchesRoom('!b:x'), false);
    assert.equal(f.room.includeLeave, true);
    assert.equal(f.room.timeline.limit, 3);
    assert.equal(f.room.state.lazyLoadMembers, true);
    assert.equal(f.accountData.matches({ type: 'm.push_rules' }), false);
    assert.equal(f.accountData.matches({ type: 'm.direct' }), true);
    assert.equal(compileFilter(undefined).eventFormat, 'client');
  });
});

describe('event_fields', () => {
  const event = { event_id: '$e', type: 'm.room.message', sender: '@a:x', content: { body: 'hi', 'm.relates_to': { rel_type: 'x' }, 'a.b': 1 } };

  it('it should keep only the listed fields', () => {
    assert.deepEqual(projectFields(event, [['type'], ['content', 'body']]), { type: 'm.room.message', content: { body: 'hi' } });
  });

  it('it should skip fields that are absent', () => {
    assert.deepEqual(projectFields(event, [['content', 'nope'], ['state_key'], ['sender']]), { sender: '@a:x' });
  });

  it('it should honour escaped dots in field paths', () => {
    assert.deepEqual(splitFieldPath('content.a\\.b'), ['content', 'a.b']);
    assert.deepEqual(splitFieldPath('a\\\\b.c'), ['a\\b', 'c']);
    assert.deepEqual(projectFields(event, [splitFieldPath('content.a\\.b')]), { content: { 'a.b': 1 } });
  });

  it('it should return the event unchanged without event_fields', () => {
    assert.equal(projectFields(event, undefined), event);
  });

  it('it should not change the original event', () => {
    const copy = structuredClone(event);
    projectFields(event, [['content'], ['content', 'body']]);
    assert.deepEqual(event, copy);
  });
});

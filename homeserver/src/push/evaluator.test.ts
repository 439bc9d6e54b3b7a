// The evaluator over the server-default rules and every condition kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionMatches, memberCountMatches, type EvalContext } from './conditions.js';
import { defaultRules } from './defaultRules.js';
import { evaluate } from './evaluator.js';
import { buildRuleset, changeRule, emptyStoredRules, putRule } from './ruleset.js';
import type { PushCondition } from './types.js';

const ME = '@alice:example.org';
const OTHER = '@bob:example.org';
const ROOM = '!room:example.org';

function ctx(over: Partial<EvalContext> = {}): EvalContext {
  return {
    userId: ME,
    memberCount: 5,
    displayName: 'Alice Liddell',
    senderPowerLevel: 0,
    notificationLevel: (key) => (key === 'room' ? 50 : 100),
    ...over,
  };
}

const msg = (content: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'm.room.message',
  sender: OTHER,
  room_id: ROOM,
  event_id: '$ev',
  content: { msgtype: 'm.text', body: 'hello', ...content },
  ...extra,
});

const defaults = buildRuleset(emptyStoredRules(), ME);

test('it should list the server-default rules in the spec order, with the user ID filled in', () => {
  assert.deepEqual(
    defaults.override.map((r) => r.rule_id),
    [
      '.m.rule.master',
      '.m.rule.suppress_notices',
      '.m.rule.invite_for_me',
      '.m.rule.member_event',
      '.m.rule.is_user_mention',
      '.m.rule.is_room_mention',
      '.m.rule.tombstone',
      '.m.rule.reaction',
      '.m.rule.room.server_acl',
      '.m.rule.suppress_edits',
    ],
  );
  assert.deepEqual(defaults.content, []);
  assert.deepEqual(
    defaults.underride.map((r) => r.rule_id),
    ['.m.rule.call', '.m.rule.encrypted_room_one_to_one', '.m.rule.room_one_to_one', '.m.rule.message', '.m.rule.encrypted'],
  );
  assert.ok([...defaults.override, ...defaults.underride].every((r) => r.default));
  assert.equal(defaults.override[0].enabled, false, 'master is off by default');
  const invite = defaults.override.find((r) => r.rule_id === '.m.rule.invite_for_me')!;
  assert.deepEqual(invite.conditions?.[2], { kind: 'event_match', key: 'state_key', pattern: ME });
  const mention = defaults.override.find((r) => r.rule_id === '.m.rule.is_user_mention')!;
  assert.deepEqual(mention.conditions, [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: ME }]);
});

test('it should add the legacy body-mention rules in their old places only when asked to', () => {
  const legacy = defaultRules(ME, { legacyMentions: true });
  const ids = legacy.byKind.override.map((r) => r.rule_id);
  assert.equal(ids.indexOf('.m.rule.contains_display_name'), ids.indexOf('.m.rule.is_user_mention') + 1);
  assert.equal(ids.indexOf('.m.rule.roomnotif'), ids.indexOf('.m.rule.is_room_mention') + 1);
  assert.deepEqual(legacy.byKind.content.map((r) => [r.rule_id, r.pattern]), [['.m.rule.contains_user_name', 'alice']]);
});

test('it should apply the default rules as the spec describes', () => {
  const cases: Array<{ name: string; event: Record<string, unknown>; c?: Partial<EvalContext>; notify: boolean; highlight: boolean; sound?: string; rule: string | null }> = [
    { name: 'a message in a group room', event: msg({}), notify: true, highlight: false, rule: '.m.rule.message' },
    { name: 'a message in a 1:1 room', event: msg({}), c: { memberCount: 2 }, notify: true, highlight: false, sound: 'default', rule: '.m.rule.room_one_to_one' },
    { name: 'a mention of the user', event: msg({ 'm.mentions': { user_ids: [ME] } }), notify: true, highlight: true, sound: 'default', rule: '.m.rule.is_user_mention' },
    { name: 'a mention of someone else', event: msg({ 'm.mentions': { user_ids: [OTHER] } }), notify: true, highlight: false, rule: '.m.rule.message' },
    { name: 'an m.notice', event: msg({ msgtype: 'm.notice', 'm.mentions': { user_ids: [ME] } }), notify: false, highlight: false, rule: '.m.rule.suppress_notices' },
    { name: 'an edit', event: msg({ 'm.relates_to': { rel_type: 'm.replace', event_id: '$orig' } }), c: { memberCount: 2 }, notify: false, highlight: false, rule: '.m.rule.suppress_edits' },
    // The mention rule comes first: an edit that newly mentions the user still highlights.
    { name: 'an edit adding a mention', event: msg({ 'm.relates_to': { rel_type: 'm.replace', event_id: '$orig' }, 'm.mentions': { user_ids: [ME] } }), notify: true, highlight: true, sound: 'default', rule: '.m.rule.is_user_mention' },
    { name: 'an encrypted event in a group', event: { type: 'm.room.encrypted', sender: OTHER, room_id: ROOM, content: { algorithm: 'm.megolm.v1.aes-sha2' } }, notify: true, highlight: false, rule: '.m.rule.encrypted' },
    { name: 'an encrypted event in a 1:1 room', event: { type: 'm.room.encrypted', sender: OTHER, room_id: ROOM, content: {} }, c: { memberCount: 2 }, notify: true, highlight: false, sound: 'default', rule: '.m.rule.encrypted_room_one_to_one' },
    { name: 'a join', event: { type: 'm.room.member', state_key: OTHER, sender: OTHER, room_id: ROOM, content: { membership: 'join' } }, notify: false, highlight: false, rule: '.m.rule.member_event' },
    { name: 'an invite for the user', event: { type: 'm.room.member', state_key: ME, sender: OTHER, room_id: ROOM, content: { membership: 'invite' } }, notify: true, highlight: false, sound: 'default', rule: '.m.rule.invite_for_me' },
    { name: 'an invite for someone else', event: { type: 'm.room.member', state_key: '@carol:example.org', sender: OTHER, room_id: ROOM, content: { membership: 'invite' } }, notify: false, highlight: false, rule: '.m.rule.member_event' },
    { name: 'a call', event: { type: 'm.call.invite', sender: OTHER, room_id: ROOM, content: {} }, notify: true, highlight: false, sound: 'ring', rule: '.m.rule.call' },
    { name: 'a reaction', event: { type: 'm.reaction', sender: OTHER, room_id: ROOM, content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👍' } } }, notify: false, highlight: false, rule: '.m.rule.reaction' },
    { name: 'a tombstone', event: { type: 'm.room.tombstone', state_key: '', sender: OTHER, room_id: ROOM, content: { replacement_room: '!new:x' } }, notify: true, highlight: true, rule: '.m.rule.tombstone' },
    { name: 'a server ACL', event: { type: 'm.room.server_acl', state_key: '', sender: OTHER, room_id: ROOM, content: {} }, notify: false, highlight: false, rule: '.m.rule.room.server_acl' },
    { name: '@room from a moderator', event: msg({ 'm.mentions': { room: true } }), c: { senderPowerLevel: 50 }, notify: true, highlight: true, rule: '.m.rule.is_room_mention' },
    { name: '@room from someone without the power', event: msg({ 'm.mentions': { room: true } }), c: { senderPowerLevel: 49 }, notify: true, highlight: false, rule: '.m.rule.message' },
    { name: 'the display name in the body (legacy rules off)', event: msg({ body: 'hi Alice Liddell' }), notify: true, highlight: false, rule: '.m.rule.message' },
    { name: 'a topic change', event: { type: 'm.room.topic', state_key: '', sender: OTHER, room_id: ROOM, content: { topic: 'x' } }, notify: false, highlight: false, rule: null },
  ];
  for (const k of cases) {
    const r = evaluate(defaults, k.event, ctx(k.c));
    assert.equal(r.ruleId, k.rule, `${k.name}: rule`);
    assert.equal(r.notify, k.notify, `${k.name}: notify`);
    assert.equal(r.highlight, k.highlight, `${k.name}: highlight`);
    assert.equal(r.sound, k.sound, `${k.name}: sound`);
  }
});

test('it should notify for nothing once the master rule is enabled', () => {
  const stored = changeRule(emptyStoredRules(), defaults, 'override', '.m.rule.master', { enabled: true });
  const rules = buildRuleset(stored, ME);
  for (const ev of [msg({ 'm.mentions': { user_ids: [ME] } }), msg({}), { type: 'm.call.invite', sender: OTHER, room_id: ROOM, content: {} }]) {
    const r = evaluate(rules, ev, ctx({ memberCount: 2 }));
    assert.equal(r.ruleId, '.m.rule.master');
    assert.equal(r.notify, false);
    assert.equal(r.highlight, false);
  }
});

test('it should let the legacy mention rules highlight only events without m.mentions', () => {
  const legacy = buildRuleset(emptyStoredRules(), ME, { legacyMentions: true });
  const byName = evaluate(legacy, msg({ body: 'hi Alice Liddell!' }), ctx());
  assert.equal(byName.ruleId, '.m.rule.contains_display_name');
  assert.equal(byName.highlight, true);
  const byLocalpart = evaluate(legacy, msg({ body: 'ping alice' }), ctx({ displayName: undefined }));
  assert.equal(byLocalpart.ruleId, '.m.rule.contains_user_name');
  assert.equal(byLocalpart.highlight, true);
  const roomnotif = evaluate(legacy, msg({ body: '@room lunch' }), ctx({ senderPowerLevel: 100 }));
  assert.equal(roomnotif.ruleId, '.m.rule.roomnotif');
  const withMentions = evaluate(legacy, msg({ body: 'hi Alice Liddell', 'm.mentions': {} }), ctx());
  assert.equal(withMentions.ruleId, '.m.rule.message');
  assert.equal(withMentions.highlight, false);
});

test('it should check user rules by kind: override, content, room, sender, then underride', () => {
  let stored = emptyStoredRules();
  stored = putRule(stored, 'underride', 'u', { actions: ['notify', { set_tweak: 'sound', value: 'under' }], conditions: [] }, {});
  stored = putRule(stored, 'sender', OTHER, { actions: ['notify', { set_tweak: 'sound', value: 'sender' }] }, {});
  stored = putRule(stored, 'room', ROOM, { actions: [] }, {});
  stored = putRule(stored, 'content', 'cake', { actions: ['notify', { set_tweak: 'highlight', value: false }, { set_tweak: 'sound', value: 'cake' }], pattern: 'cake' }, {});
  const rules = buildRuleset(stored, ME);
  assert.equal(evaluate(rules, msg({ body: 'cake time' }), ctx()).sound, 'cake');
  assert.equal(evaluate(rules, msg({ body: 'cake time' }), ctx()).highlight, false);
  assert.equal(evaluate(rules, msg({ body: 'tea time' }), ctx()).ruleId, ROOM, 'room rule before sender rule');
  assert.equal(evaluate(rules, msg({ body: 'tea' }, { room_id: '!other:x' }), ctx()).ruleId, OTHER);
  assert.equal(evaluate(rules, msg({ body: 'tea' }, { room_id: '!other:x', sender: '@x:y' }), ctx()).ruleId, 'u', 'user underride before default underride');
  assert.equal(evaluate(rules, msg({ body: 'tea' }, { room_id: '!other:x', sender: '@x:y' }), ctx()).sound, 'under');
  const disabled = buildRuleset(changeRule(stored, rules, 'room', ROOM, { enabled: false }), ME);
  assert.equal(evaluate(disabled, msg({ body: 'tea' }), ctx()).ruleId, OTHER, 'disabled rules never match');
});

test('it should ignore historical actions', () => {
  const stored = putRule(emptyStoredRules(), 'override', 'quiet', { actions: [], conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'shh' }] }, {});
  const r = evaluate(buildRuleset(stored, ME), msg({ body: 'shh' }), ctx());
  assert.equal(r.ruleId, 'quiet');
  assert.equal(r.notify, false);
});

test('it should evaluate each condition kind as the spec defines it', () => {
  const ev = {
    type: 'm.room.create',
    sender: OTHER,
    room_id: ROOM,
    state_key: '',
    content: {
      'm.federate': true,
      room_version: '1',
      nothing: null,
      big: 2 ** 53,
      n: 3,
      alt_aliases: ['#somewhere:example.org', '#myroom:example.com', 7, true, null, { a: 1 }],
      body: 'Hello Alice Liddell, hi',
    },
  };
  const cases: Array<[PushCondition, boolean, Partial<EvalContext>?]> = [
    [{ kind: 'event_match', key: 'type', pattern: 'm.room.*' }, true],
    [{ kind: 'event_match', key: 'content.m\\.federate', pattern: '*' }, false], // not a string
    [{ kind: 'event_match', key: 'content.missing', pattern: '*' }, false],
    [{ kind: 'event_match', key: 'state_key', pattern: '' }, true],
    [{ kind: 'event_match', key: 'content.body', pattern: 'alice' }, true],
    [{ kind: 'event_match', key: 'content.room_version', pattern: '1' }, true],
    [{ kind: 'event_match', key: 'type' }, false],
    [{ kind: 'event_property_is', key: 'content.m\\.federate', value: true }, true],
    [{ kind: 'event_property_is', key: 'content.m\\.federate', value: 'true' }, false],
    [{ kind: 'event_property_is', key: 'content.m\\.federate', value: 1 }, false],
    [{ kind: 'event_property_is', key: 'content.nothing', value: null }, true],
    [{ kind: 'event_property_is', key: 'content.missing', value: null }, false],
    [{ kind: 'event_property_is', key: 'content.n', value: 3 }, true],
    [{ kind: 'event_property_is', key: 'content.big', value: 2 ** 53 }, false], // outside canonical JSON range
    [{ kind: 'event_property_is', key: 'content.alt_aliases', value: '#myroom:example.com' }, false],
    [{ kind: 'event_property_contains', key: 'content.alt_aliases', value: '#myroom:example.com' }, true],
    [{ kind: 'event_property_contains', key: 'content.alt_aliases', value: ':example.com' }, false],
    [{ kind: 'event_property_contains', key: 'content.alt_aliases', value: 7 }, true],
    [{ kind: 'event_property_contains', key: 'content.alt_aliases', value: true }, true],
    [{ kind: 'event_property_contains', key: 'content.alt_aliases', value: null }, true],
    [{ kind: 'event_property_contains', key: 'content.alt_aliases', value: { a: 1 } }, false],
    [{ kind: 'event_property_contains', key: 'content.room_version', value: '1' }, false], // not an array
    [{ kind: 'contains_display_name' }, true],
    [{ kind: 'contains_display_name' }, false, { displayName: 'Alice L' }],
    [{ kind: 'contains_display_name' }, false, { displayName: '' }],
    [{ kind: 'contains_display_name' }, true, { displayName: 'alice liddell' }],
    [{ kind: 'room_member_count', is: '5' }, true],
    [{ kind: 'room_member_count', is: '==5' }, true],
    [{ kind: 'room_member_count', is: '<5' }, false],
    [{ kind: 'room_member_count', is: '<6' }, true],
    [{ kind: 'room_member_count', is: '>4' }, true],
    [{ kind: 'room_member_count', is: '>5' }, false],
    [{ kind: 'room_member_count', is: '<=5' }, true],
    [{ kind: 'room_member_count', is: '>=6' }, false],
    [{ kind: 'room_member_count', is: 'five' }, false],
    [{ kind: 'room_member_count' }, false],
    [{ kind: 'sender_notification_permission', key: 'room' }, true, { senderPowerLevel: 50 }],
    [{ kind: 'sender_notification_permission', key: 'room' }, false, { senderPowerLevel: 10 }],
    [{ kind: 'sender_notification_permission', key: 'other' }, false, { senderPowerLevel: 50 }],
    [{ kind: 'sender_notification_permission', key: 'room' }, true, { senderPowerLevel: Infinity }],
    [{ kind: 'org.example.unknown', key: 'type' }, false],
  ];
  for (const [cond, expected, over] of cases) {
    assert.equal(conditionMatches(cond, ev, ctx(over)), expected, JSON.stringify(cond) + (over ? JSON.stringify(over) : ''));
  }
  assert.equal(memberCountMatches('>=2', 2), true);
  assert.equal(memberCountMatches('2', 3), false);
});

test('it should treat a rule with an unknown condition as never matching', () => {
  const stored = putRule(emptyStoredRules(), 'override', 'weird', { actions: ['notify', { set_tweak: 'highlight' }], conditions: [{ kind: 'org.example.future' }] }, {});
  assert.equal(evaluate(buildRuleset(stored, ME), msg({}), ctx()).ruleId, '.m.rule.message');
});

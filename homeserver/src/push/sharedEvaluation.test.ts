// The one-evaluation-per-event shortcut must give every default-rules user exactly what
// evaluating their own ruleset gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from './evaluator.js';
import { buildRuleset, emptyStoredRules } from './ruleset.js';
import { SharedEvaluator } from './sharedEvaluation.js';

const ROOM = '!room:example.org';
const USERS = ['@alice:example.org', '@bob:example.org', '@carol:other.example', '@:example.org'];
const SENDER = '@sender:example.org';

const events: Array<Record<string, unknown>> = [
  { type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello alice' } },
  { type: 'm.room.message', content: { msgtype: 'm.notice', body: 'bot' } },
  { type: 'm.room.message', content: { msgtype: 'm.text', body: 'hi', 'm.mentions': { user_ids: ['@bob:example.org'] } } },
  { type: 'm.room.message', content: { msgtype: 'm.text', body: 'all', 'm.mentions': { room: true } } },
  { type: 'm.room.message', content: { body: 'edit', 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } } },
  { type: 'm.room.encrypted', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
  { type: 'm.room.member', state_key: '@alice:example.org', content: { membership: 'invite' } },
  { type: 'm.room.member', state_key: '@bob:example.org', content: { membership: 'join' } },
  { type: 'm.room.tombstone', state_key: '', content: { body: 'moved' } },
  { type: 'm.call.invite', content: {} },
  { type: 'm.reaction', content: {} },
  { type: 'm.room.message', content: { msgtype: 'm.text', body: 'x', 'm.mentions': { user_ids: ['@:'] } } },
  { type: 'm.room.member', state_key: '@:', content: { membership: 'invite' } },
];

test('it should give every default-rules user the result of their own rules, for each kind of event', () => {
  const shared = new SharedEvaluator();
  for (const memberCount of [2, 5]) {
    for (const senderPowerLevel of [0, 100]) {
      const base = { memberCount, senderPowerLevel, notificationLevel: () => 50 };
      for (const e of events) {
        const event = { ...e, sender: SENDER, room_id: ROOM, event_id: '$e' };
        const s = shared.evaluate(event, base);
        for (const userId of USERS) {
          const own = evaluate(buildRuleset(emptyStoredRules(), userId), event, { ...base, userId });
          const got = s && !s.names(userId) ? s.result : own;
          assert.deepEqual(
            { notify: got.notify, highlight: got.highlight, actions: got.actions },
            { notify: own.notify, highlight: own.highlight, actions: own.actions },
            `${JSON.stringify(e)} for ${userId} (members ${memberCount}, power ${senderPowerLevel})`,
          );
        }
      }
    }
  }
});

test('it should name only the invited user and the mentioned users', () => {
  const shared = new SharedEvaluator();
  const base = { memberCount: 5, senderPowerLevel: 0, notificationLevel: () => 50 };
  const s = shared.evaluate({ type: 'm.room.message', sender: SENDER, content: { body: 'x', 'm.mentions': { user_ids: ['@bob:example.org'] } } }, base)!;
  assert.equal(s.names('@bob:example.org'), true);
  assert.equal(s.names('@alice:example.org'), false);
  assert.equal(s.result.notify, true);
  assert.equal(s.result.highlight, false);
});

test('it should evaluate users one by one with the legacy mention rules, which look for each name in the body', () => {
  const shared = new SharedEvaluator({ legacyMentions: true });
  assert.equal(shared.evaluate({ type: 'm.room.message', sender: SENDER, content: { body: 'hello alice' } }, { memberCount: 5, senderPowerLevel: 0, notificationLevel: () => 50 }), undefined);
});

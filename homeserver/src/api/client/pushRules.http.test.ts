// The /pushrules API through the real HTTP stack, as a client sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C, withPushServer, type Res } from '../../push/testHarness.js';
import { expectError } from '../../testing/expect.js';

const R = `${C}/pushrules/global`;

const ids = (rules: Array<{ rule_id: string }>) => rules.map((r) => r.rule_id);

test('it should return the whole ruleset with the server-default rules marked default', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const res = await h.call('GET', `${C}/pushrules/`, { token: alice.token });
    assert.equal(res.status, 200);
    const g = res.json.global;
    for (const kind of ['override', 'content', 'room', 'sender', 'underride']) assert.ok(Array.isArray(g[kind]), kind);
    assert.equal(g.override[0].rule_id, '.m.rule.master');
    assert.equal(g.override[0].enabled, false);
    assert.ok(g.override.every((r: { default: boolean }) => r.default === true));
    const invite = g.override.find((r: { rule_id: string }) => r.rule_id === '.m.rule.invite_for_me');
    assert.equal(invite.conditions[2].pattern, alice.userId);
    assert.deepEqual(ids(g.underride), ['.m.rule.call', '.m.rule.encrypted_room_one_to_one', '.m.rule.room_one_to_one', '.m.rule.message', '.m.rule.encrypted']);
    const global = await h.call('GET', `${R}/`, { token: alice.token });
    assert.deepEqual(global.json, g);
    const one = await h.call('GET', `${R}/underride/.m.rule.call`, { token: alice.token });
    assert.equal(one.status, 200);
    assert.deepEqual(one.json.actions, ['notify', { set_tweak: 'sound', value: 'ring' }]);
    expectError(await h.call('GET', `${C}/pushrules/`), 401, 'M_MISSING_TOKEN');
  });
});

test('it should add rules as the most important user rule, below master, and place them with before/after', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const put = (id: string, query = '', body: unknown = { actions: ['notify'], conditions: [{ kind: 'event_match', key: 'content.body', pattern: id }] }) =>
      h.call('PUT', `${R}/override/${id}${query}`, { token: alice.token, body });
    assert.equal((await put('a')).status, 200);
    assert.equal((await put('b', '?after=a')).status, 200);
    assert.equal((await put('c', '?before=a')).status, 200);
    assert.equal((await put('d')).status, 200);
    // before wins over after when both are given.
    assert.equal((await put('e', '?before=b&after=d')).status, 200);
    const rules = (await h.call('GET', `${R}/`, { token: alice.token })).json.override;
    assert.deepEqual(ids(rules).slice(0, 6), ['.m.rule.master', 'd', 'c', 'a', 'e', 'b']);
    assert.equal(rules[6].rule_id, '.m.rule.suppress_notices');
    const a = (await h.call('GET', `${R}/override/a`, { token: alice.token })).json;
    assert.deepEqual(a, {
      rule_id: 'a',
      default: false,
      enabled: true,
      actions: ['notify'],
      conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'a' }],
    });
  });
});

test('it should update an existing rule in place of a new one and keep it disabled if it was', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const body = (pattern: string) => ({ pattern, actions: ['notify', 'dont_notify', 'coalesce'] });
    assert.equal((await h.call('PUT', `${R}/content/cake`, { token: alice.token, body: body('cake') })).status, 200);
    assert.equal((await h.call('PUT', `${R}/content/cake/enabled`, { token: alice.token, body: { enabled: false } })).status, 200);
    assert.equal((await h.call('PUT', `${R}/content/cake`, { token: alice.token, body: body('cake*lie') })).status, 200);
    const rule = (await h.call('GET', `${R}/content/cake`, { token: alice.token })).json;
    // Historical actions are dropped (push.md "Historical Actions").
    assert.deepEqual(rule, { rule_id: 'cake', default: false, enabled: false, pattern: 'cake*lie', actions: ['notify'] });
    const content = (await h.call('GET', `${R}/`, { token: alice.token })).json.content;
    assert.deepEqual(ids(content), ['cake']);
  });
});

test('it should store room and sender rules under their IDs without conditions', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const room = '!dj234r78wl45Gh4D:matrix.org';
    const sender = '@spambot:matrix.org';
    assert.equal((await h.call('PUT', `${R}/room/${encodeURIComponent(room)}`, { token: alice.token, body: { actions: [] } })).status, 200);
    assert.equal((await h.call('PUT', `${R}/sender/${encodeURIComponent(sender)}`, { token: alice.token, body: { actions: [] } })).status, 200);
    const g = (await h.call('GET', `${R}/`, { token: alice.token })).json;
    assert.deepEqual(g.room, [{ rule_id: room, default: false, enabled: true, actions: [] }]);
    assert.deepEqual(g.sender, [{ rule_id: sender, default: false, enabled: true, actions: [] }]);
    assert.equal((await h.call('DELETE', `${R}/room/${encodeURIComponent(room)}`, { token: alice.token })).status, 200);
    expectError(await h.call('GET', `${R}/room/${encodeURIComponent(room)}`, { token: alice.token }), 404, 'M_NOT_FOUND');
  });
});

test('it should change enabled and actions of server-default rules, and refuse to replace or delete them', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const t = { token: alice.token };
    assert.equal((await h.call('PUT', `${R}/override/.m.rule.master/enabled`, { ...t, body: { enabled: true } })).status, 200);
    assert.deepEqual((await h.call('GET', `${R}/override/.m.rule.master/enabled`, t)).json, { enabled: true });
    const actions = ['notify', { set_tweak: 'sound', value: 'bing' }];
    assert.equal((await h.call('PUT', `${R}/underride/.m.rule.message/actions`, { ...t, body: { actions } })).status, 200);
    assert.deepEqual((await h.call('GET', `${R}/underride/.m.rule.message/actions`, t)).json, { actions });
    const rule = (await h.call('GET', `${R}/underride/.m.rule.message`, t)).json;
    assert.equal(rule.default, true);
    assert.deepEqual(rule.actions, actions);

    expectError(await h.call('PUT', `${R}/underride/.m.rule.message`, { ...t, body: { actions: [], conditions: [] } }), 400, 'M_UNKNOWN');
    expectError(await h.call('DELETE', `${R}/underride/.m.rule.message`, t), 400, 'M_UNKNOWN');
    // Still there, unchanged.
    assert.deepEqual((await h.call('GET', `${R}/underride/.m.rule.message/actions`, t)).json, { actions });
  });
});

test('it should publish every change as m.push_rules account data', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    await h.call('PUT', `${R}/override/lunch`, { token: alice.token, body: { actions: ['notify'], conditions: [] } });
    let data = (await h.sync.accountData.get(alice.userId, undefined, 'm.push_rules')) as any;
    assert.deepEqual(ids(data.global.override).slice(0, 2), ['.m.rule.master', 'lunch']);
    await h.call('PUT', `${R}/override/lunch/enabled`, { token: alice.token, body: { enabled: false } });
    data = (await h.sync.accountData.get(alice.userId, undefined, 'm.push_rules')) as any;
    assert.equal(data.global.override[1].enabled, false);
    await h.call('DELETE', `${R}/override/lunch`, { token: alice.token });
    data = (await h.sync.accountData.get(alice.userId, undefined, 'm.push_rules')) as any;
    assert.deepEqual(data, (await h.call('GET', `${C}/pushrules/`, { token: alice.token })).json);
  });
});

test('it should answer malformed requests with the spec errors', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const t = { token: alice.token };
    const ok = { actions: ['notify'], conditions: [] };
    await h.call('PUT', `${R}/override/mine`, { ...t, body: ok });
    expectError(await h.call('PUT', `${R}/override/.mine`, { ...t, body: ok }), 400, 'M_UNKNOWN');
    expectError(await h.call('PUT', `${R}/override/a%2Fb`, { ...t, body: ok }), 400, 'M_UNKNOWN');
    expectError(await h.call('PUT', `${R}/override/x?before=nope`, { ...t, body: ok }), 400, 'M_UNKNOWN');
    expectError(await h.call('PUT', `${R}/override/x?after=.m.rule.suppress_notices`, { ...t, body: ok }), 400, 'M_UNKNOWN');
    expectError(await h.call('PUT', `${R}/content/x`, { ...t, body: { actions: ['notify'] } }), 400, 'M_UNKNOWN');
    expectError(await h.call('PUT', `${R}/override/x`, { ...t, body: { actions: ['sing'] } }), 400, 'M_UNKNOWN');
    expectError(await h.call('PUT', `${R}/override/x`, { ...t, body: { actions: [42] } }), 400, 'M_BAD_JSON');
    expectError(await h.call('PUT', `${R}/override/x`, { ...t, body: { conditions: [] } }), 400, 'M_BAD_JSON');
    expectError(await h.call('PUT', `${R}/override/x`, { ...t, body: { actions: [], conditions: [{ key: 'type' }] } }), 400, 'M_BAD_JSON');
    expectError(await h.call('PUT', `${R}/override/mine/enabled`, { ...t, body: { enabled: 'yes' } }), 400, 'M_BAD_JSON');
    expectError(await h.call('PUT', `${R}/override/mine/actions`, { ...t, body: { actions: [{ no_tweak: 1 }] } }), 400, 'M_UNKNOWN');
    expectError(await h.call('GET', `${R}/override/nope`, t), 404, 'M_NOT_FOUND');
    expectError(await h.call('GET', `${R}/override/nope/enabled`, t), 404, 'M_NOT_FOUND');
    expectError(await h.call('PUT', `${R}/override/nope/enabled`, { ...t, body: { enabled: true } }), 404, 'M_NOT_FOUND');
    expectError(await h.call('PUT', `${R}/override/nope/actions`, { ...t, body: { actions: [] } }), 404, 'M_NOT_FOUND');
    expectError(await h.call('DELETE', `${R}/override/nope`, t), 404, 'M_NOT_FOUND');
    expectError(await h.call('GET', `${R}/sideways/mine`, t), 404, 'M_UNRECOGNIZED');
    expectError(await h.call('PUT', `${R}/sideways/mine`, { ...t, body: ok }), 404, 'M_UNRECOGNIZED');
    // Rules are per user: bob does not see alice's.
    expectError(await h.call('GET', `${R}/override/mine`, { token: h.user('bob').token }), 404, 'M_NOT_FOUND');
  });
});

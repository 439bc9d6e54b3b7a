import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '../http/errors.js';
import { UiaChallenge, UserInteractiveAuth, type UiaStage } from './uia.js';
import { DUMMY, PASSWORD, dummyStage, passwordStage } from './uiaStages.js';

const ALICE = '@alice:example.test';
const password = passwordStage({
  qualifyUser: (u) => (u.startsWith('@') ? u : `@${u}:example.test`),
  verifyPassword: async (userId, pw) => userId === ALICE && pw === 'right',
});

/** Runs an authentication attempt and returns the 401 body, or 'done'. */
async function attempt(uia: UserInteractiveAuth, req: Parameters<UserInteractiveAuth['authenticate']>[0]) {
  try {
    await uia.authenticate(req);
    return 'done' as const;
  } catch (e) {
    if (e instanceof UiaChallenge) return e.toJSON();
    throw e;
  }
}

const pwReq = (auth: unknown, userId = ALICE, binding = 'POST /_matrix/client/v3/account/password') => ({
  flows: [{ stages: [PASSWORD] }],
  binding,
  userId,
  auth,
});

test('it should answer a request without auth with flows, params and a session, and no error', async () => {
  const uia = new UserInteractiveAuth([dummyStage]);
  const body = await attempt(uia, { flows: [{ stages: [DUMMY] }], binding: 'POST /register', auth: undefined });
  assert.notEqual(body, 'done');
  if (body === 'done') return;
  assert.deepEqual(body.flows, [{ stages: [DUMMY] }]);
  assert.deepEqual(body.params, {});
  assert.equal(typeof body.session, 'string');
  assert.equal(body.errcode, undefined);
  assert.equal(body.completed, undefined);
});

test('it should complete the dummy stage of the session it handed out', async () => {
  const uia = new UserInteractiveAuth([dummyStage]);
  const req = { flows: [{ stages: [DUMMY] }], binding: 'POST /register', auth: undefined as unknown };
  const first = await attempt(uia, req);
  assert.ok(first !== 'done');
  assert.equal(await attempt(uia, { ...req, auth: { type: DUMMY, session: first.session } }), 'done');
  // Retrying a completed session gives the result again (the spec allows this).
  assert.equal(await attempt(uia, { ...req, auth: { session: first.session } }), 'done');
});

test('it should answer a wrong password with 401, M_FORBIDDEN and the same session, then accept the right one', async () => {
  const uia = new UserInteractiveAuth([password]);
  const first = await attempt(uia, pwReq(undefined));
  assert.ok(first !== 'done');
  const wrong = await attempt(uia, pwReq({ type: PASSWORD, identifier: { type: 'm.id.user', user: ALICE }, password: 'wrong', session: first.session }));
  assert.ok(wrong !== 'done');
  assert.equal(wrong.errcode, 'M_FORBIDDEN');
  assert.equal(wrong.session, first.session);
  assert.deepEqual(wrong.completed, []);
  assert.deepEqual(wrong.flows, [{ stages: [PASSWORD] }]);
  const right = await attempt(uia, pwReq({ type: PASSWORD, identifier: { type: 'm.id.user', user: 'alice' }, password: 'right', session: first.session }));
  assert.equal(right, 'done');
});

test("it should not check another user's password, even a correct one", async () => {
  const uia = new UserInteractiveAuth([password]);
  const bob = '@bob:example.test';
  const first = await attempt(uia, pwReq(undefined, bob));
  assert.ok(first !== 'done');
  const res = await attempt(uia, pwReq({ type: PASSWORD, identifier: { type: 'm.id.user', user: ALICE }, password: 'right', session: first.session }, bob));
  assert.ok(res !== 'done');
  assert.equal(res.errcode, 'M_FORBIDDEN');
});

test('it should refuse a session used for another operation or by another user', async () => {
  const uia = new UserInteractiveAuth([password]);
  const first = await attempt(uia, pwReq(undefined));
  assert.ok(first !== 'done');
  const auth = { type: PASSWORD, identifier: { type: 'm.id.user', user: ALICE }, password: 'right', session: first.session };
  await assert.rejects(uia.authenticate(pwReq(auth, ALICE, 'POST /_matrix/client/v3/account/deactivate')), (e: MatrixError) => e.status === 403 && e.errcode === 'M_FORBIDDEN');
  await assert.rejects(uia.authenticate(pwReq(auth, '@mallory:example.test')), (e: MatrixError) => e.status === 403);
  // Completed for its own operation, it still cannot be used for another.
  assert.equal(await attempt(uia, pwReq(auth)), 'done');
  await assert.rejects(uia.authenticate(pwReq({ session: first.session }, ALICE, 'DELETE /_matrix/client/v3/devices/X')), (e: MatrixError) => e.status === 403);
});

test('it should refuse unknown and expired sessions with 400', async () => {
  let now = 0;
  const uia = new UserInteractiveAuth([dummyStage], { ttlMs: 1000, now: () => now });
  const req = { flows: [{ stages: [DUMMY] }], binding: 'POST /register', auth: undefined as unknown };
  const first = await attempt(uia, req);
  assert.ok(first !== 'done');
  await assert.rejects(uia.authenticate({ ...req, auth: { type: DUMMY, session: 'made-up' } }), (e: MatrixError) => e.status === 400);
  now = 1001;
  await assert.rejects(uia.authenticate({ ...req, auth: { type: DUMMY, session: first.session } }), (e: MatrixError) => e.status === 400);
});

test('it should require the stages of a flow in order and report each completed one', async () => {
  const a: UiaStage = { type: 'x.a', check: async () => ({ ok: true }) };
  const b: UiaStage = { type: 'x.b', check: async () => ({ ok: true }) };
  const uia = new UserInteractiveAuth([a, b]);
  const req = { flows: [{ stages: ['x.a', 'x.b'] }], binding: 'POST /op', auth: undefined as unknown };
  const first = await attempt(uia, req);
  assert.ok(first !== 'done');
  const early = await attempt(uia, { ...req, auth: { type: 'x.b', session: first.session } });
  assert.ok(early !== 'done');
  assert.equal(early.errcode, 'M_FORBIDDEN');
  const unknownType = await attempt(uia, { ...req, auth: { type: DUMMY, session: first.session } });
  assert.ok(unknownType !== 'done');
  assert.equal(unknownType.errcode, 'M_UNRECOGNIZED');
  const half = await attempt(uia, { ...req, auth: { type: 'x.a', session: first.session } });
  assert.ok(half !== 'done');
  assert.equal(half.errcode, undefined);
  assert.deepEqual(half.completed, ['x.a']);
  assert.equal(await attempt(uia, { ...req, auth: { type: 'x.b', session: first.session } }), 'done');
});

test('it should answer a password stage without a password with 400 M_MISSING_PARAM', async () => {
  const uia = new UserInteractiveAuth([password]);
  await assert.rejects(
    uia.authenticate(pwReq({ type: PASSWORD, identifier: { type: 'm.id.user', user: ALICE } })),
    (e: MatrixError) => e.status === 400 && e.errcode === 'M_MISSING_PARAM',
  );
});

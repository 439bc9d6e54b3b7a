// GET routes served on plain node:http (http/app.ts handlePlain): the shared parse of
// identical query strings must never mix up requesters or let a bad query through.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { serveTestApp, type TestHttp } from '../testing/http.js';
import { TestUsers } from '../testing/users.js';
import { forbidden } from './errors.js';
import { ok, requesterOf, route } from './route.js';

const echo = route({
  method: 'GET',
  path: '/_matrix/client/v3/echo',
  auth: 'user',
  query: z.object({ since: z.string().optional(), n: z.coerce.number().int().min(0) }),
  spec: 'test only',
  handler: (ctx) => ok({ user: requesterOf(ctx).userId, since: ctx.query.since ?? null, n: ctx.query.n }),
});

/** A handler that answers after a while (as a held long-poll does), or fails then. */
const later = route({
  method: 'GET',
  path: '/_matrix/client/v3/later',
  auth: 'user',
  query: z.object({ outcome: z.enum(['answer', 'refuse', 'crash']) }),
  spec: 'test only',
  async handler(ctx) {
    await new Promise((resolve) => setTimeout(resolve, 30));
    if (ctx.query.outcome === 'refuse') throw forbidden('not now');
    if (ctx.query.outcome === 'crash') throw new Error('boom');
    return ok({ later: true });
  },
});

describe('plain GET routes', () => {
  let http: TestHttp;
  const users = new TestUsers('example.test');
  const alice = users.add('alice', { deviceId: 'A', token: 'tok-a' });
  const bob = users.add('bob', { deviceId: 'B', token: 'tok-b' });
  before(async () => {
    http = await serveTestApp([echo as never, later as never], users, { allowQueryToken: true });
  });
  after(() => http.close({ force: true }));

  it('it should answer each requester for themselves when they send the same query string', async () => {
    const path = '/_matrix/client/v3/echo?since=s42&n=3';
    for (let i = 0; i < 2; i++) {
      const [a, b] = await Promise.all([http.call('GET', path, { token: alice.token }), http.call('GET', path, { token: bob.token })]);
      assert.deepEqual([a.status, a.json], [200, { user: '@alice:example.test', since: 's42', n: 3 }]);
      assert.deepEqual([b.status, b.json], [200, { user: '@bob:example.test', since: 's42', n: 3 }]);
    }
  });

  it('it should refuse a repeated invalid query every time, and a repeated query string without a token', async () => {
    for (let i = 0; i < 2; i++) {
      const bad = await http.call('GET', '/_matrix/client/v3/echo?n=-1', { token: alice.token });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
    }
    await http.call('GET', '/_matrix/client/v3/echo?n=5', { token: alice.token });
    const anonymous = await http.call('GET', '/_matrix/client/v3/echo?n=5');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.errcode, 'M_MISSING_TOKEN');
  });

  it('it should still read an access token given in the query string', async () => {
    const path = '/_matrix/client/v3/echo?n=7';
    const viaQuery = await http.call('GET', path, { token: bob.token, tokenInQuery: true });
    assert.deepEqual([viaQuery.status, viaQuery.json], [200, { user: '@bob:example.test', since: null, n: 7 }]);
    const again = await http.call('GET', path, { token: alice.token, tokenInQuery: true });
    assert.equal(again.json.user, '@alice:example.test');
  });

  // Bounded: a reply or error that is never sent leaves the request hanging.
  it('it should answer a handler that ends later with its reply or its error, CORS headers included', { timeout: 10_000 }, async () => {
    const get = async (outcome: string) => {
      const res = await fetch(`${http.base}/_matrix/client/v3/later?outcome=${outcome}`, { headers: { authorization: `Bearer ${alice.token}` } });
      return { status: res.status, cors: res.headers.get('access-control-allow-origin'), json: (await res.json()) as Record<string, unknown> };
    };
    const [answer, refused, crashed] = await Promise.all([get('answer'), get('refuse'), get('crash')]);
    assert.deepEqual(answer, { status: 200, cors: '*', json: { later: true } });
    assert.deepEqual(refused, { status: 403, cors: '*', json: { errcode: 'M_FORBIDDEN', error: 'not now' } });
    assert.equal(crashed.status, 500);
    assert.equal(crashed.cors, '*');
    assert.equal(crashed.json.errcode, 'M_UNKNOWN');
  });

  it('it should ignore a body sent with a GET and keep answering on the same connection', async () => {
    const socket = connect(Number(new URL(http.base).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const answers = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (received.split('HTTP/1.1 ').length - 1 >= n && received.endsWith('}') ? resolve() : setTimeout(check, 5));
        socket.once('error', reject);
        check();
      });
    const head = (n: number, extra: string) => `GET /_matrix/client/v3/echo?n=${n} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.token}\r\n${extra}\r\n`;
    socket.write(head(1, 'Content-Length: 9\r\n') + '{"n":"2"}');
    await answers(1);
    socket.write(head(4, ''));
    await answers(2);
    socket.destroy();
    const bodies = received.split('\r\n\r\n').slice(1).map((b) => JSON.parse(b.slice(0, b.lastIndexOf('}') + 1)));
    assert.deepEqual(bodies, [
      { user: '@alice:example.test', since: null, n: 1 },
      { user: '@alice:example.test', since: null, n: 4 },
    ]);
    assert.equal(received.match(/HTTP\/1\.1 200/g)?.length, 2);
  });
});

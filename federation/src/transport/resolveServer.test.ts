import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from './clock.js';
import {
  ServerResolver,
  cachePeriod,
  orderSrvRecords,
  WELL_KNOWN_DEFAULT_MS,
  WELL_KNOWN_ERROR_MS,
  WELL_KNOWN_MAX_MS,
  WELL_KNOWN_MIN_MS,
  type SrvRecord,
  type WellKnownResponse,
} from './resolveServer.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return { now: () => now, schedule: () => ({ cancel() {} }), advance: (ms) => void (now += ms) };
}

function setup(wellKnown: Record<string, WellKnownResponse>, srv: Record<string, SrvRecord[]> = {}, overrides?: Record<string, string>) {
  const calls = { wellKnown: [] as string[], srv: [] as string[] };
  const clock = fakeClock();
  const resolver = new ServerResolver({
    clock,
    overrides,
    random: () => 0,
    wellKnown: {
      fetch: async (host) => {
        calls.wellKnown.push(host);
        return wellKnown[host] ?? { ok: false, error: 'connection refused' };
      },
    },
    srv: {
      resolveSrv: async (name) => {
        calls.srv.push(name);
        const r = srv[name];
        if (r === undefined) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
        return r;
      },
    },
  });
  return { resolver, calls, clock };
}

const json = (body: unknown, headers: Record<string, string> = {}): WellKnownResponse => ({
  ok: true,
  status: 200,
  headers,
  body: Buffer.from(JSON.stringify(body)),
});
const target = async (r: ServerResolver, name: string) => {
  const res = await r.resolve(name);
  assert.ok(res.ok, `resolve ${name}`);
  return res.target;
};

test('it should use IP literals directly with their port or 8448', async () => {
  const { resolver, calls } = setup({});
  assert.deepEqual(await target(resolver, '192.0.2.7'), { host: '192.0.2.7', port: 8448, hostHeader: '192.0.2.7', tlsName: '192.0.2.7' });
  assert.deepEqual(await target(resolver, '192.0.2.7:1234'), { host: '192.0.2.7', port: 1234, hostHeader: '192.0.2.7:1234', tlsName: '192.0.2.7' });
  assert.deepEqual(await target(resolver, '[2001:db8::1]:99'), { host: '2001:db8::1', port: 99, hostHeader: '[2001:db8::1]:99', tlsName: '2001:db8::1' });
  assert.deepEqual(calls, { wellKnown: [], srv: [] });
});

test('it should connect to a name with an explicit port without discovery', async () => {
  const { resolver, calls } = setup({ 'hr.example': json({ 'm.server': 'elsewhere.example' }) });
  assert.deepEqual(await target(resolver, 'hr.example:8449'), { host: 'hr.example', port: 8449, hostHeader: 'hr.example:8449', tlsName: 'hr.example' });
  assert.deepEqual(calls, { wellKnown: [], srv: [] });
});

test('it should follow a well-known m.server delegation', async () => {
  const { resolver } = setup(
    {
      'a.example': json({ 'm.server': 'matrix.a.example:443' }),
      'b.example': json({ 'm.server': '198.51.100.4' }),
      'c.example': json({ 'm.server': 'fed.c.example' }),
      'd.example': json({ 'm.server': 'fed.d.example' }),
      'e.example': json({ 'm.server': 'fed.e.example' }),
    },
    {
      '_matrix-fed._tcp.fed.c.example': [{ name: 'node1.c.example', port: 8000, priority: 10, weight: 1 }],
      '_matrix._tcp.fed.d.example': [{ name: 'old.d.example', port: 8001, priority: 10, weight: 1 }],
    },
  );
  assert.deepEqual(await target(resolver, 'a.example'), { host: 'matrix.a.example', port: 443, hostHeader: 'matrix.a.example:443', tlsName: 'matrix.a.example' });
  assert.deepEqual(await target(resolver, 'b.example'), { host: '198.51.100.4', port: 8448, hostHeader: '198.51.100.4', tlsName: '198.51.100.4' });
  // 3.3: SRV of the delegated name; Host and certificate stay the delegated name.
  assert.deepEqual(await target(resolver, 'c.example'), { host: 'node1.c.example', port: 8000, hostHeader: 'fed.c.example', tlsName: 'fed.c.example' });
  // 3.4: deprecated _matrix._tcp.
  assert.deepEqual(await target(resolver, 'd.example'), { host: 'old.d.example', port: 8001, hostHeader: 'fed.d.example', tlsName: 'fed.d.example' });
  // 3.5: no SRV: delegated name on 8448.
  assert.deepEqual(await target(resolver, 'e.example'), { host: 'fed.e.example', port: 8448, hostHeader: 'fed.e.example', tlsName: 'fed.e.example' });
});

test('it should fall back from a failed well-known to SRV and then to port 8448', async () => {
  const { resolver, calls } = setup(
    {
      'bad-json.example': { ok: true, status: 200, headers: {}, body: Buffer.from('<html>') },
      'not-found.example': { ok: true, status: 404, headers: {}, body: Buffer.from('{}') },
      'bad-server.example': json({ 'm.server': 'no spaces allowed' }),
    },
    {
      '_matrix-fed._tcp.srv.example': [
        { name: 'backup.srv.example', port: 9000, priority: 20, weight: 0 },
        { name: 'main.srv.example', port: 8000, priority: 10, weight: 5 },
      ],
      '_matrix._tcp.legacy.example': [{ name: 'legacy-host.example', port: 8500, priority: 0, weight: 0 }],
      '_matrix-fed._tcp.dot.example': [{ name: '.', port: 0, priority: 0, weight: 0 }],
    },
  );
  assert.deepEqual(await target(resolver, 'srv.example'), { host: 'main.srv.example', port: 8000, hostHeader: 'srv.example', tlsName: 'srv.example' });
  assert.deepEqual(await target(resolver, 'legacy.example'), { host: 'legacy-host.example', port: 8500, hostHeader: 'legacy.example', tlsName: 'legacy.example' });
  for (const name of ['plain.example', 'bad-json.example', 'not-found.example', 'bad-server.example', 'dot.example']) {
    assert.deepEqual(await target(resolver, name), { host: name, port: 8448, hostHeader: name, tlsName: name }, name);
  }
  assert.ok(calls.srv.includes('_matrix-fed._tcp.plain.example') && calls.srv.includes('_matrix._tcp.plain.example'));
});

test('it should prefer the override map over discovery', async () => {
  const { resolver, calls } = setup({}, {}, { 'hr.corp': '10.1.2.3:8448', 'legal.corp': 'legal-hs.internal', 'v6.corp': '[fd00::7]:9000' });
  assert.deepEqual(await target(resolver, 'hr.corp'), { host: '10.1.2.3', port: 8448, hostHeader: 'hr.corp', tlsName: 'hr.corp' });
  assert.deepEqual(await target(resolver, 'legal.corp'), { host: 'legal-hs.internal', port: 8448, hostHeader: 'legal.corp', tlsName: 'legal.corp' });
  assert.deepEqual(await target(resolver, 'v6.corp'), { host: 'fd00::7', port: 9000, hostHeader: 'v6.corp', tlsName: 'v6.corp' });
  assert.deepEqual(calls, { wellKnown: [], srv: [] });
  const bad = await resolver.resolve('not a name');
  assert.equal(bad.ok, false);
});

test('it should cache well-known answers per Cache-Control and errors for an hour', async () => {
  const answers: Record<string, WellKnownResponse> = { 'x.example': json({ 'm.server': 'hs.x.example:8448' }, { 'cache-control': 'max-age=7200' }) };
  const { resolver, calls, clock } = setup(answers);
  await target(resolver, 'x.example');
  await target(resolver, 'x.example');
  assert.equal(calls.wellKnown.length, 1);
  clock.advance(7_200_000 + 1);
  await target(resolver, 'x.example');
  assert.equal(calls.wellKnown.length, 2);

  await target(resolver, 'down.example'); // error: cached for an hour
  await target(resolver, 'down.example');
  assert.equal(calls.wellKnown.filter((h) => h === 'down.example').length, 1);
  answers['down.example'] = json({ 'm.server': 'up.example:1' });
  clock.advance(WELL_KNOWN_ERROR_MS + 1);
  assert.equal((await target(resolver, 'down.example')).host, 'up.example');
});

test('it should share one well-known fetch between concurrent resolutions', async () => {
  const { resolver, calls } = setup({ 'y.example': json({ 'm.server': 'hs.y.example:1' }) });
  await Promise.all([resolver.resolve('y.example'), resolver.resolve('y.example'), resolver.resolve('y.example')]);
  assert.equal(calls.wellKnown.length, 1);
});

test('it should derive cache periods within the 5 min – 48 h bounds', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.equal(cachePeriod({}, now), WELL_KNOWN_DEFAULT_MS);
  assert.equal(cachePeriod({ 'cache-control': 'public, max-age=3600' }, now), 3_600_000);
  assert.equal(cachePeriod({ 'cache-control': 'max-age=99999999' }, now), WELL_KNOWN_MAX_MS);
  assert.equal(cachePeriod({ 'cache-control': 'no-store' }, now), WELL_KNOWN_MIN_MS);
  assert.equal(cachePeriod({ expires: 'Wed, 01 Jan 2030 02:00:00 GMT' }, now), 7_200_000);
});

test('it should order SRV targets by priority, then by weighted random choice (RFC 2782)', () => {
  const rec = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 8448, priority, weight });
  const records = [rec('c', 20, 0), rec('a1', 10, 1), rec('a3', 10, 3), rec('z', 10, 0), rec('b', 15, 7)];
  const names = (random: () => number) => orderSrvRecords(records, random).map((r) => r.name);
  // A roll near the top picks the heaviest-last record; weight 0 comes only after the weighted ones.
  assert.deepEqual(names(() => 0.99), ['a3', 'a1', 'z', 'b', 'c']);
  // A roll in the first quarter picks a1 (running sums 0, 1, 4 over z, a1, a3).
  assert.deepEqual(names(() => 0.2), ['a1', 'a3', 'z', 'b', 'c']);
  // Over many rolls a record of weight 3 leads about three times as often as one of weight 1.
  let seed = 7;
  const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const firsts = { a1: 0, a3: 0, z: 0 } as Record<string, number>;
  for (let i = 0; i < 4000; i++) firsts[orderSrvRecords(records, lcg)[0].name]++;
  assert.ok(firsts.a3 > 2.5 * firsts.a1 && firsts.a3 < 3.5 * firsts.a1, JSON.stringify(firsts));
  assert.ok(firsts.z < 10, 'weight 0 almost never leads');
});

test('it should resolve every SRV record as a target, the rest as fallbacks in order', async () => {
  const { resolver } = setup(
    {},
    {
      '_matrix-fed._tcp.multi.example': [
        { name: 'third.multi.example', port: 8003, priority: 30, weight: 0 },
        { name: 'first.multi.example', port: 8001, priority: 10, weight: 0 },
        { name: 'second.multi.example', port: 8002, priority: 20, weight: 0 },
      ],
    },
  );
  const res = await resolver.resolve('multi.example');
  assert.ok(res.ok);
  const t = (host: string, port: number) => ({ host, port, hostHeader: 'multi.example', tlsName: 'multi.example' });
  assert.deepEqual(res.target, t('first.multi.example', 8001));
  assert.deepEqual(res.fallbacks, [t('second.multi.example', 8002), t('third.multi.example', 8003)]);
  const single = await resolver.resolve('plain.example');
  assert.ok(single.ok);
  assert.equal(single.fallbacks, undefined, 'port 8448 is the only target without SRV records');
});

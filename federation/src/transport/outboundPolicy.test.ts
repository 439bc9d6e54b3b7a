import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundPolicy, normalizeIp } from './outboundPolicy.js';

test('it should block loopback, private and link-local ranges by default', () => {
  const p = new OutboundPolicy();
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '0.0.0.0']) {
    assert.equal(p.ipAllowed(ip), false, ip);
  }
  for (const ip of ['::1', 'fe80::1', 'fd00::1', 'fc12:3456::1', 'ff02::1', '2001:db8::1', '::']) assert.equal(p.ipAllowed(ip), false, ip);
  for (const ip of ['8.8.8.8', '172.32.0.1', '2a00:1450:4001::200e', '[2606:4700::1111]']) assert.equal(p.ipAllowed(ip), true, ip);
  assert.equal(p.ipAllowed('not-an-ip'), false);
});

test('it should judge IPv4-mapped IPv6 addresses as the IPv4 address', () => {
  const p = new OutboundPolicy();
  for (const ip of ['::ffff:127.0.0.1', '::FFFF:10.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:c0a8:0101', '[::ffff:192.168.0.1]']) {
    assert.equal(p.ipAllowed(ip), false, ip);
  }
  assert.equal(p.ipAllowed('::ffff:8.8.8.8'), true);
  assert.deepEqual(normalizeIp('::ffff:7f00:1'), { address: '127.0.0.1', family: 'ipv4' });
  assert.deepEqual(normalizeIp('fe80::1%eth0'), { address: 'fe80::1', family: 'ipv6' });
  // A configured allowance written in either form covers both forms.
  const internal = new OutboundPolicy({ ipRangeAllowlist: ['::ffff:10.20.0.0/112'] });
  assert.equal(internal.ipAllowed('10.20.3.4'), true);
  assert.equal(internal.ipAllowed('::ffff:10.20.3.4'), true);
  assert.equal(internal.ipAllowed('10.21.0.1'), false);
});

test('it should let internal deployments reach private and loopback addresses', () => {
  const open = new OutboundPolicy({ ipRangeBlocklist: [] });
  for (const ip of ['127.0.0.1', '10.0.0.5', '::1', 'fd00::5', '::ffff:192.168.1.1']) assert.equal(open.ipAllowed(ip), true, ip);
  assert.equal(open.ipAllowed('0.0.0.0'), false, 'unspecified stays blocked');
  const some = new OutboundPolicy({ ipRangeAllowlist: ['10.20.0.0/16', 'fd12:3456::/32', '127.0.0.1'] });
  assert.equal(some.ipAllowed('10.20.9.9'), true);
  assert.equal(some.ipAllowed('10.30.9.9'), false);
  assert.equal(some.ipAllowed('fd12:3456:1::1'), true);
  assert.equal(some.ipAllowed('fd99::1'), false);
  assert.equal(some.ipAllowed('127.0.0.1'), true);
  assert.equal(some.ipAllowed('127.0.0.2'), false);
  const custom = new OutboundPolicy({ ipRangeBlocklist: ['203.0.113.0/24', '2001:db8:1::/48'] });
  assert.equal(custom.ipAllowed('203.0.113.7'), false);
  assert.equal(custom.ipAllowed('2001:db8:1::1'), false);
  assert.equal(custom.ipAllowed('10.0.0.1'), true);
  assert.throws(() => new OutboundPolicy({ ipRangeBlocklist: ['10.0.0.0/33'] }));
  assert.throws(() => new OutboundPolicy({ ipRangeBlocklist: ['nonsense/8'] }));
});

test('it should apply server-name allow and deny globs', () => {
  const p = new OutboundPolicy({ serverNameAllowlist: ['*.corp.example', 'partner.org'], serverNameDenylist: ['evil.corp.example'] });
  assert.equal(p.serverNameAllowed('hr.corp.example'), true);
  assert.equal(p.serverNameAllowed('HR.Corp.Example:8448'), true);
  assert.equal(p.serverNameAllowed('partner.org'), true);
  assert.equal(p.serverNameAllowed('evil.corp.example'), false);
  assert.equal(p.serverNameAllowed('evil.corp.example:443'), false);
  assert.equal(p.serverNameAllowed('matrix.org'), false);
  assert.equal(p.serverNameAllowed('corp.example'), false);
  const denyOnly = new OutboundPolicy({ serverNameDenylist: ['bad?.net'] });
  assert.equal(denyOnly.serverNameAllowed('bad1.net'), false);
  assert.equal(denyOnly.serverNameAllowed('bad12.net'), true);
  assert.equal(denyOnly.serverNameAllowed('[::1]:8448'), true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpPolicy, embeddedIpv4 } from './ipPolicy.js';

test('it should refuse loopback, private, link-local, multicast and unique-local addresses by default', () => {
  const p = new IpPolicy();
  for (const ip of ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd12:3456::1', 'fc00::1', 'ff02::1']) {
    assert.equal(p.allows(ip), false, ip);
  }
  for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111']) assert.equal(p.allows(ip), true, ip);
  assert.equal(p.allows('not-an-ip'), false);
});

test('it should judge IPv6 forms that carry an IPv4 address by that address', () => {
  const p = new IpPolicy();
  for (const ip of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '::127.0.0.1']) {
    assert.equal(p.allows(ip), false, ip);
  }
  assert.equal(p.allows('::ffff:8.8.8.8'), true);
  assert.equal(embeddedIpv4('::ffff:192.168.0.1'), '192.168.0.1');
  assert.equal(embeddedIpv4('2001:db8::1'), undefined);
});

test('it should let configured ranges be allowed back or refused in addition', () => {
  const p = new IpPolicy({ whitelist: ['127.0.0.1/32', 'fd00::/8'], blacklist: ['8.8.8.0/24'] });
  assert.equal(p.allows('127.0.0.1'), true);
  assert.equal(p.allows('::ffff:127.0.0.1'), true);
  assert.equal(p.allows('127.0.0.2'), false);
  assert.equal(p.allows('fd00::5'), true);
  assert.equal(p.allows('8.8.8.8'), false);
  assert.throws(() => new IpPolicy({ whitelist: ['10.0.0.0/40'] }), /prefix/);
  assert.throws(() => new IpPolicy({ blacklist: ['example.org'] }), /not an IP range/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isValidEventId,
  isValidLocalpart,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseServerName,
  serverNameOf,
} from './ids.js';
import { roomVersion, type RoomVersionRules } from './roomVersions.js';

const rules = (v: string) => roomVersion(v) as RoomVersionRules;
const HASH43 = 'Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ';

test('it should accept the spec example server names and IP literals with ports', () => {
  for (const name of [
    'matrix.org', 'matrix.org:8888', '1.2.3.4', '1.2.3.4:1234', '[1234:5678::abcd]', '[1234:5678::abcd]:5678',
    '127.0.0.1:8448', '[::1]:8448', 'localhost', 'MATRIX.org', 'my-host.example', '[::ffff:1.2.3.4]',
  ]) {
    assert.ok(isValidServerName(name), name);
  }
});

test('it should reject malformed server names and bad ports', () => {
  for (const name of [
    '', ':8448', 'matrix.org:', 'matrix.org:0', 'matrix.org:65536', 'matrix.org:123456', 'matrix.org:80a',
    'matrix.org:-1', '256.1.1.1', '1.2.3.4:1:2', '[::1', '[::1]x', '[zz::1]', '[1.2.3.4]', '::1', 'a..b', '.a', 'a.',
    'under_score.org', 'spa ce.org', 'ünï.org', 'a'.repeat(256),
  ]) {
    assert.equal(isValidServerName(name), false, name);
  }
});

test('it should split server names into host, port and kind', () => {
  assert.deepEqual(parseServerName('[::1]:8448'), { host: '::1', port: 8448, kind: 'ipv6' });
  assert.deepEqual(parseServerName('127.0.0.1:8448'), { host: '127.0.0.1', port: 8448, kind: 'ipv4' });
  assert.deepEqual(parseServerName('example.org'), { host: 'example.org', port: undefined, kind: 'dns' });
});

test('it should validate user IDs, allowing historical localparts for remote users unless strict', () => {
  assert.ok(isValidUserId('@alice:example.org', { strictLocalpart: true }));
  assert.ok(isValidUserId('@a.b_c=d-e/f+g:[::1]:8448', { strictLocalpart: true }));
  for (const historical of ['@Alice:example.org', '@:example.org', '@caf\u00e9!:example.org']) {
    assert.ok(isValidUserId(historical), historical);
    assert.equal(isValidUserId(historical, { strictLocalpart: true }), false, historical);
  }
  for (const bad of ['alice:example.org', '@alice', '@alice:', '@al\u0000ice:example.org', '@a\uD800:example.org', '@alice:bad_host']) {
    assert.equal(isValidUserId(bad), false, bad);
  }
});

test('it should reject IDs over 255 bytes, counting UTF-8 bytes', () => {
  const server = ':example.org';
  const fits = '@' + 'a'.repeat(255 - 1 - server.length) + server;
  assert.equal(Buffer.byteLength(fits), 255);
  assert.ok(isValidUserId(fits));
  assert.equal(isValidUserId('@a' + fits.slice(1)), false);
  // 100 × 'é' is 100 characters but 200 bytes.
  assert.equal(isValidUserId('@' + '\u00e9'.repeat(100) + 'x'.repeat(50) + server), false);
  assert.equal(isValidRoomAlias('#' + 'a'.repeat(250) + server), false);
  assert.equal(isValidRoomId('!' + 'a'.repeat(250) + server), false);
  assert.equal(isValidEventId('$' + 'a'.repeat(250) + server), false);
});

test('it should accept registration localparts only in the current grammar and within the ID limit', () => {
  for (const ok of ['alice', 'a.b_c=d-e/f+g', '0123']) assert.ok(isValidLocalpart(ok), ok);
  for (const bad of ['Alice', '', 'al ice', 'al:ice', 'al#ice', 'caf\u00e9']) assert.equal(isValidLocalpart(bad), false, bad);
  assert.ok(isValidLocalpart('a'.repeat(242), 'example.org'));
  assert.equal(isValidLocalpart('a'.repeat(243), 'example.org'), false);
});

test('it should accept both room ID forms, and only the right one for a given room version', () => {
  assert.ok(isValidRoomId('!abc:example.org'));
  assert.ok(isValidRoomId('!' + HASH43));
  assert.ok(isValidRoomId('!abc:example.org', rules('11')));
  assert.equal(isValidRoomId('!' + HASH43, rules('11')), false);
  assert.ok(isValidRoomId('!' + HASH43, rules('12')));
  assert.equal(isValidRoomId('!abc:example.org', rules('12')), false);
  for (const bad of ['abc:example.org', '!:example.org', '!abc', '!abc:', '!' + HASH43 + 'x', '!' + HASH43.replace('-', '+')]) {
    assert.equal(isValidRoomId(bad), false, bad);
  }
});

test('it should check event IDs against the format of each room version', () => {
  const std = '$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk';
  const url = '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
  assert.ok(isValidEventId('$abc:example.org', rules('1')));
  assert.equal(isValidEventId(url, rules('1')), false);
  assert.ok(isValidEventId(std, rules('3')));
  assert.equal(isValidEventId(url, rules('3')), false);
  assert.ok(isValidEventId(url, rules('4')));
  assert.equal(isValidEventId(std, rules('4')), false);
  assert.equal(isValidEventId('$abc:example.org', rules('4')), false);
  for (const any of [std, url, '$abc:example.org']) assert.ok(isValidEventId(any), any);
  for (const bad of ['abc', '$', '$short', '!' + url.slice(1)]) assert.equal(isValidEventId(bad), false, bad);
});

test('it should validate room aliases', () => {
  assert.ok(isValidRoomAlias('#room:example.org'));
  assert.ok(isValidRoomAlias('#Räum:example.org:8448'));
  for (const bad of ['room:example.org', '#:example.org', '#room', '#room:', '#ro\u0000om:example.org']) {
    assert.equal(isValidRoomAlias(bad), false, bad);
  }
});

test('it should extract the server name from user IDs, aliases and legacy room IDs', () => {
  assert.equal(serverNameOf('@alice:example.org:8448'), 'example.org:8448');
  assert.equal(serverNameOf('#room:[::1]:8448'), '[::1]:8448');
  assert.equal(serverNameOf('!abc:example.org'), 'example.org');
  assert.equal(serverNameOf('$abc:example.org'), 'example.org');
  assert.equal(serverNameOf('!' + HASH43), undefined);
  assert.equal(serverNameOf('alice:example.org'), undefined);
});

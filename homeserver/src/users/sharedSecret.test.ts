import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { NonceStore, macMatches, registrationMac } from './sharedSecret.js';

// The MAC as Synapse's register_new_matrix_user builds it, written out independently.
function synapseStyleMac(secret: string, parts: string[]): string {
  return createHmac('sha1', secret).update(Buffer.from(parts.join('\x00'), 'utf8')).digest('hex');
}

const fields = { nonce: 'n0nce', username: 'bot', password: 'pässword', admin: false };

test('it should compute the MAC over nonce, user, password and admin flag separated by NUL', () => {
  assert.equal(registrationMac('s3cret', fields), synapseStyleMac('s3cret', ['n0nce', 'bot', 'pässword', 'notadmin']));
  assert.equal(registrationMac('s3cret', { ...fields, admin: true }), synapseStyleMac('s3cret', ['n0nce', 'bot', 'pässword', 'admin']));
  assert.equal(
    registrationMac('s3cret', { ...fields, userType: 'bot' }),
    synapseStyleMac('s3cret', ['n0nce', 'bot', 'pässword', 'notadmin', 'bot']),
  );
});

test('it should accept the right MAC and refuse a wrong secret, a changed field or a claimed admin flag', () => {
  const mac = synapseStyleMac('s3cret', ['n0nce', 'bot', 'pässword', 'notadmin']);
  assert.equal(macMatches('s3cret', fields, mac), true);
  assert.equal(macMatches('s3cret', fields, mac.toUpperCase()), true, 'hex case does not matter');
  assert.equal(macMatches('other', fields, mac), false);
  assert.equal(macMatches('s3cret', { ...fields, username: 'bot2' }, mac), false);
  assert.equal(macMatches('s3cret', { ...fields, admin: true }, mac), false);
  assert.equal(macMatches('s3cret', fields, mac.slice(0, -1)), false);
  assert.equal(macMatches('s3cret', fields, ''), false);
});

test('it should accept each nonce once, only if it was issued and has not expired', () => {
  let now = 1_000_000;
  const store = new NonceStore(60_000, () => now);
  const a = store.issue();
  const b = store.issue();
  assert.notEqual(a, b);
  assert.equal(store.consume(a), true);
  assert.equal(store.consume(a), false, 'a nonce is single-use');
  assert.equal(store.consume('never-issued'), false);
  now += 60_001;
  assert.equal(store.consume(b), false, 'an expired nonce is refused');
});

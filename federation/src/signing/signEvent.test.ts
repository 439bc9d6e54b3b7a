import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion, type RoomVersionRules } from '../core/roomVersions.js';
import { hasValidContentHash } from '../core/hashes.js';
import { redact } from '../core/redaction.js';
import { messageEvent, messageEventSigned, minimalEvent, minimalEventSigned, SPEC_SEED } from '../core/specEvents.testdata.js';
import type { Pdu } from '../core/types.js';
import { generateSigningKey, signingKeyFromSeed } from './ed25519Key.js';
import { hashAndSignEvent, signEvent, verifyEventSignature, verifyEventSignatureAsync } from './signEvent.js';

const key = signingKeyFromSeed('ed25519:1', SPEC_SEED);
const v1 = roomVersion('1') as RoomVersionRules;
const v11 = roomVersion('11') as RoomVersionRules;

test('it should reproduce the spec signed minimal event exactly', () => {
  assert.deepEqual(hashAndSignEvent(minimalEvent(), v1, 'domain', key), minimalEventSigned());
});

test('it should reproduce the spec signed message event, signing the redacted form but keeping the content', () => {
  const signed = hashAndSignEvent(messageEvent(), v1, 'domain', key);
  assert.deepEqual(signed, messageEventSigned());
  assert.deepEqual(signed.content, { body: 'Here is the message content' });
});

test('it should verify the spec events, and their redacted copies, with the spec key', () => {
  for (const ev of [minimalEventSigned(), messageEventSigned()]) {
    assert.ok(verifyEventSignature(ev, v1, 'domain', 'ed25519:1', key.publicKey));
    assert.ok(verifyEventSignature(redact(ev, v1), v1, 'domain', 'ed25519:1', key.publicKey));
  }
});

test('it should fail verification when a protected field is tampered with, but not for redactable content', () => {
  const ev = hashAndSignEvent(messageEvent(), v11, 'domain', key);
  assert.ok(verifyEventSignature(ev, v11, 'domain', 'ed25519:1', key.publicKey));
  assert.equal(verifyEventSignature({ ...ev, sender: '@evil:domain' }, v11, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyEventSignature({ ...ev, hashes: { sha256: 'AAAA' } }, v11, 'domain', 'ed25519:1', key.publicKey), false);
  // Message content is outside the signature; the content hash is what catches it.
  const edited: Pdu = { ...ev, content: { body: 'forged' } };
  assert.ok(verifyEventSignature(edited, v11, 'domain', 'ed25519:1', key.publicKey));
  assert.equal(hasValidContentHash(edited), false);
});

test('it should add a co-signature without changing the hash or the existing signature', () => {
  const ev = hashAndSignEvent(minimalEvent(), v11, 'domain', key);
  const other = generateSigningKey();
  const cosigned = signEvent(ev, v11, 'resident.example', other);
  assert.deepEqual(cosigned.hashes, ev.hashes);
  assert.equal(cosigned.signatures.domain['ed25519:1'], ev.signatures.domain['ed25519:1']);
  assert.ok(verifyEventSignature(cosigned, v11, 'domain', 'ed25519:1', key.publicKey));
  assert.ok(verifyEventSignature(cosigned, v11, 'resident.example', other.keyId, other.publicKey));
  assert.equal(verifyEventSignature(cosigned, v11, 'resident.example', other.keyId, key.publicKey), false);
});

test('it should verify a batch of events on the thread pool and spot the forged one', async () => {
  const events = Array.from({ length: 8 }, (_, i) => hashAndSignEvent({ ...minimalEvent(), depth: i + 1 }, v11, 'domain', key));
  events[5] = { ...events[5], depth: 99 };
  const verdicts = await Promise.all(events.map((ev) => verifyEventSignatureAsync(ev, v11, 'domain', 'ed25519:1', key.publicKey)));
  assert.deepEqual(verdicts, [true, true, true, true, true, false, true, true]);
});

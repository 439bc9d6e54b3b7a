// The checks on receipt of one PDU: the event ID and the signature check share one
// encoding of the redacted event, and that sharing must never let a changed PDU through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { contentHash } from '@parley/federation/core/hashes';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';
import { signaturesOf, verifyJsonSignatureAsync } from '@parley/federation/signing/signJson';
import type { JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { parsePdu, verifyPdu, type SignatureChecker } from './receivedPdu.js';

const rules = roomVersion('12')!;
const key = generateSigningKey();

/** Checks against one known key of remote.test, as the key ring does once it holds the key. */
function checkerFor(serverName: string, publicKey: KeyObject): SignatureChecker {
  return {
    async verifyJsonSignedBy(obj: JsonObjectLike, name: string, _atTs: number, signedData?: Buffer) {
      if (name !== serverName) return false;
      const sigs = signaturesOf(obj, name);
      if (sigs.length === 0) return false;
      for (const s of sigs) if (!(await verifyJsonSignatureAsync(obj, name, s.keyId, publicKey, signedData))) return false;
      return true;
    },
  };
}

/** A well-formed (v4-style) event ID. */
const ref = (c: string): string => '$' + c.repeat(43);

function message(body: string): Pdu {
  return hashAndSignEvent(
    {
      room_id: '!' + 'r'.repeat(43), // a v12 room ID (the create event's hash)
      type: 'm.room.message',
      sender: '@bob:remote.test',
      content: { msgtype: 'm.text', body },
      depth: 5,
      prev_events: [ref('p')],
      auth_events: [ref('c'), ref('l'), ref('m')],
      origin_server_ts: 1_700_000_000_000,
      hashes: { sha256: '' },
      signatures: {},
    } as Pdu,
    rules,
    'remote.test',
    key,
  );
}

const keys = checkerFor('remote.test', key.publicKey);

test('it should accept a validly signed PDU parsed once for its ID and its signature', async () => {
  const parsed = parsePdu(message('hello'), rules);
  assert.ok(parsed.ok);
  const verified = await verifyPdu(parsed.event, rules, keys);
  assert.ok(verified.ok);
  assert.equal(verified.event.redactedOnReceipt, false);
  assert.equal(verified.event.pdu.content.body, 'hello');
  assert.equal('referenceForm' in verified.event, false, 'the shared encoding is not carried into the verified event');
});

test('it should drop a PDU whose signature was made over other content, even with its encoding shared', async () => {
  const signed = message('original');
  // A different redacted form (another sender) under the original signature.
  const forged = { ...signed, sender: '@mallory:remote.test' };
  const parsed = parsePdu(forged, rules);
  assert.ok(parsed.ok);
  const verified = await verifyPdu(parsed.event, rules, keys);
  assert.equal(verified.ok, false);
});

test('it should check the PDU it is given, not an encoding computed for an earlier object', async () => {
  const parsed = parsePdu(message('first'), rules);
  assert.ok(parsed.ok);
  // The caller swaps in another PDU but keeps the old parse's other fields. One signed by a key
  // nobody published must fail, though the first PDU's encoding and signature would verify.
  const forged = hashAndSignEvent({ ...message('second'), signatures: {} }, rules, 'remote.test', generateSigningKey());
  assert.equal((await verifyPdu({ ...parsed.event, pdu: forged }, rules, keys)).ok, false);
  const genuine = await verifyPdu({ ...parsed.event, pdu: message('second') }, rules, keys);
  assert.ok(genuine.ok);
  assert.equal(genuine.event.pdu.content.body, 'second');
});

test('it should keep the redacted form of a PDU whose content does not match its hash', async () => {
  const signed = message('secret');
  // The content hash no longer matches, but the signature (over the redacted form) still holds.
  const tampered = { ...signed, content: { msgtype: 'm.text', body: 'changed' } };
  assert.notEqual(contentHash(tampered), signed.hashes.sha256);
  const parsed = parsePdu(tampered, rules);
  assert.ok(parsed.ok);
  const verified = await verifyPdu(parsed.event, rules, keys);
  assert.ok(verified.ok);
  assert.equal(verified.event.redactedOnReceipt, true);
  assert.deepEqual(verified.event.pdu.content, {});
});

// Access tokens: 32 random bytes, URL-safe base64, behind a recognisable prefix
// (as Synapse's `syt_`, which lets secret scanners spot leaked tokens). Only
// their SHA-256 is ever stored.
import { createHash, randomBytes, randomInt } from 'node:crypto';

const TOKEN_PREFIX = 'pat_';

export function newAccessToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const DEVICE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A fresh device ID: ten capital letters (as Synapse). */
export function newDeviceId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += DEVICE_ID_ALPHABET[randomInt(DEVICE_ID_ALPHABET.length)];
  return id;
}

/** Device IDs a client may choose: 1–255 bytes, no control characters (they end up in key IDs and logs). */
export function isValidDeviceId(id: string): boolean {
  // eslint-disable-next-line no-control-regex
  return id.length > 0 && Buffer.byteLength(id, 'utf8') <= 255 && !/[\u0000-\u001f\u007f]/.test(id);
}

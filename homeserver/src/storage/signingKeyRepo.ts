// The server's ed25519 signing key: made on first start, then kept in the meta keyspace.
import { generateSigningKey, parseSigningKey, serializeSigningKey, type SigningKey } from '@parley/federation/signing/ed25519Key';
import type { Database } from './db.js';

const SIGNING_KEY = Buffer.from('signing_key');

export async function loadOrCreateSigningKey(db: Database): Promise<SigningKey> {
  const stored = await db.get<string>('meta_value', SIGNING_KEY);
  if (stored !== undefined) return parseSigningKey(stored);
  const key = generateSigningKey();
  await db.write([db.put('meta_value', SIGNING_KEY, serializeSigningKey(key))]);
  return key;
}

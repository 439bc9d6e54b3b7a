// Which of two backed-up copies of a Megolm session key the server keeps.
// Spec: modules/end_to_end_encryption.md "Server-side key backups": prefer a verified
// key, then the one that decrypts from an earlier message, then the one forwarded
// fewer times. On a full tie the stored copy stays (as Synapse).
import type { KeyBackupData } from './types.js';

export function shouldReplace(stored: KeyBackupData | undefined, incoming: KeyBackupData): boolean {
  if (!stored) return true;
  if (stored.is_verified !== incoming.is_verified) return incoming.is_verified;
  if (stored.first_message_index !== incoming.first_message_index) {
    return incoming.first_message_index < stored.first_message_index;
  }
  return incoming.forwarded_count < stored.forwarded_count;
}

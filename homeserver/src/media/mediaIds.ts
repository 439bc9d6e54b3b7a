// Media IDs and mxc:// URIs. Spec: client-server-api/modules/content_repo.md
// "Matrix Content (mxc://) URIs" and "Security considerations": media IDs are
// [A-Za-z0-9_-] only, which is also what keeps them safe as path or key parts.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new random media ID: 24 alphanumerics (~143 bits), as Synapse makes them. */
export function newMediaId(): string {
  let out = '';
  while (out.length < 24) {
    for (const b of randomBytes(32)) {
      // 248 = 4 × 62: drop the top bytes so every character is equally likely.
      if (b < 248 && out.length < 24) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export const isValidMediaId = (id: string): boolean => /^[A-Za-z0-9_-]{1,255}$/.test(id);

export const mxcUri = (serverName: string, mediaId: string): string => `mxc://${serverName}/${mediaId}`;

// Sync and pagination tokens. Every syncable change has one position in the global
// stream (storage/streamCounter.ts), so a token is just `s<position>`: "everything up
// to and including this position". The same tokens serve /sync (since, next_batch,
// prev_batch) and /messages (from, to, start, end).
// Spec: client-server-api/_index.md "Syncing" — tokens are opaque to clients.
import { invalidParam } from '../http/errors.js';

const TOKEN = /^s(\d{1,15})$/;

export function encodeToken(position: number): string {
  return `s${Math.max(0, position)}`;
}

/** The position of a token, or undefined when it is not one of ours. */
export function decodeToken(token: string): number | undefined {
  const m = TOKEN.exec(token);
  return m ? Number(m[1]) : undefined;
}

/** Like decodeToken, but a malformed token is the client's error (400 M_INVALID_PARAM). */
export function parseToken(token: string, what: string): number {
  const pos = decodeToken(token);
  if (pos === undefined) throw invalidParam(`Invalid ${what} token`);
  return pos;
}

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

// /messages and /context also reach history fetched from other servers (backfill), which
// sits at negative positions below a room's first event: `h<n>` stands for position −n.
// Other endpoints keep the plain form, so a /sync `since` can never point into it.
const PAGE_HISTORY_TOKEN = /^h(\d{1,15})$/;

export function encodePageToken(position: number): string {
  return position < 0 ? `h${-position}` : `s${position}`;
}

/** A /messages or /context token (a sync token or a history position); malformed is 400 M_INVALID_PARAM. */
export function parsePageToken(token: string, what: string): number {
  const m = PAGE_HISTORY_TOKEN.exec(token);
  return m ? -Number(m[1]) : parseToken(token, what);
}

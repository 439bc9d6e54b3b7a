// Identifier grammar: server names, user IDs, room IDs, event IDs, room aliases.
// Spec: appendices.md "Identifier Grammar", "Server Name", "Common Identifier Format",
// "User Identifiers" (incl. "Historical User IDs"), "Room IDs", "Room Aliases", "Event IDs".
import { isIPv6 } from 'node:net';
import type { RoomVersionRules } from './roomVersions.js';

/** Byte limit on user IDs, room IDs, event IDs and aliases. */
export const MAX_ID_BYTES = 255;

export interface ServerNameParts {
  /** Hostname as written; IPv6 literals without their brackets. */
  host: string;
  port: number | undefined;
  kind: 'ipv4' | 'ipv6' | 'dns';
}

const PORT = /^[0-9]{1,5}$/;
const IPV4 = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
// Conventional hostname labels: alphanumerics and hyphens, dot-separated, none empty.
const DNS_NAME = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const STRICT_LOCALPART = /^[a-z0-9._=\-/+]+$/;
const HASH_ROOM_ID = /^![A-Za-z0-9_-]{43}$/;
const EVENT_ID_V3 = /^\$[A-Za-z0-9+/]{43}$/;
const EVENT_ID_V4 = /^\$[A-Za-z0-9_-]{43}$/;
const LONE_SURROGATE = /\p{Cs}/u;

/** Split a server name into host and port, or undefined if it does not follow the grammar. */
export function parseServerName(name: string): ServerNameParts | undefined {
  let host: string;
  let rest: string;
  let kind: ServerNameParts['kind'];
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return undefined;
    host = name.slice(1, close);
    if (!IPV6_CHARS.test(host) || !isIPv6(host)) return undefined;
    rest = name.slice(close + 1);
    kind = 'ipv6';
  } else {
    const colon = name.indexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    rest = colon < 0 ? '' : name.slice(colon);
    const quad = IPV4.exec(host);
    if (quad !== null) {
      // A dotted quad is an IPv4 literal, so each part must be an octet.
      for (let i = 1; i <= 4; i++) if (Number(quad[i]) > 255) return undefined;
      kind = 'ipv4';
    } else {
      if (host.length > 255 || !DNS_NAME.test(host)) return undefined;
      kind = 'dns';
    }
  }
  if (rest === '') return { host, port: undefined, kind };
  if (rest[0] !== ':') return undefined;
  const digits = rest.slice(1);
  if (!PORT.test(digits)) return undefined;
  const port = Number(digits);
  if (port < 1 || port > 65535) return undefined; // outside TCP's port range: unreachable
  return { host, port, kind };
}

export function isValidServerName(name: string): boolean {
  return parseServerName(name) !== undefined;
}

/** The part after the first `:` of a user ID, alias or domain-bearing room/event ID (unvalidated). */
export function serverNameOf(id: string): string | undefined {
  const sigil = id.charCodeAt(0);
  // @ ! # $
  if (sigil !== 0x40 && sigil !== 0x21 && sigil !== 0x23 && sigil !== 0x24) return undefined;
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

/** A localpart we would allocate: the current user ID grammar. */
export function isValidLocalpart(localpart: string, serverName?: string): boolean {
  if (!STRICT_LOCALPART.test(localpart)) return false;
  return serverName === undefined || fitsIdLimit('@' + localpart + ':' + serverName);
}

export interface UserIdOptions {
  /**
   * Require the current localpart grammar (for users we create or serve outside
   * events). Without it the historical grammar applies, which remote senders may use.
   */
  strictLocalpart?: boolean;
}

export function isValidUserId(id: string, opts?: UserIdOptions): boolean {
  if (id.charCodeAt(0) !== 0x40 || !fitsIdLimit(id)) return false;
  const colon = id.indexOf(':');
  if (colon < 0) return false;
  const localpart = id.slice(1, colon);
  const okLocal = opts?.strictLocalpart === true ? STRICT_LOCALPART.test(localpart) : isHistoricalLocalpart(localpart);
  return okLocal && isValidServerName(id.slice(colon + 1));
}

/**
 * Room IDs: `!opaque:server` (v1–v11) or `!` + 43 URL-safe base64 characters (v12).
 * With `rules`, only the form that room version uses is accepted.
 */
export function isValidRoomId(id: string, rules?: RoomVersionRules): boolean {
  if (id.charCodeAt(0) !== 0x21 || !fitsIdLimit(id)) return false;
  const hashForm = HASH_ROOM_ID.test(id);
  if (rules !== undefined && rules.roomIdIsCreateEventHash) return hashForm;
  if (rules === undefined && hashForm) return true;
  return isLocalpartWithServer(id);
}

/**
 * Event IDs: `$opaque:server` (v1/v2), `$` + 43 standard base64 characters (v3),
 * `$` + 43 URL-safe base64 characters (v4+). With `rules`, only that version's form.
 */
export function isValidEventId(id: string, rules?: RoomVersionRules): boolean {
  if (id.charCodeAt(0) !== 0x24 || !fitsIdLimit(id)) return false;
  switch (rules?.eventIdFormat) {
    case 'v1':
      return isLocalpartWithServer(id);
    case 'v3':
      return EVENT_ID_V3.test(id);
    case 'v4':
      return EVENT_ID_V4.test(id);
    default:
      return EVENT_ID_V4.test(id) || EVENT_ID_V3.test(id) || isLocalpartWithServer(id);
  }
}

export function isValidRoomAlias(alias: string): boolean {
  return alias.charCodeAt(0) === 0x23 && fitsIdLimit(alias) && isLocalpartWithServer(alias);
}

/** `&opaque:server` with a non-empty opaque part in the lenient (any code point but `:`/NUL) grammar. */
function isLocalpartWithServer(id: string): boolean {
  const colon = id.indexOf(':');
  if (colon < 2) return false;
  return isHistoricalLocalpart(id.slice(1, colon)) && isValidServerName(id.slice(colon + 1));
}

/** Any non-surrogate code point except `:` and NUL; the caller has already split at the first `:`. */
function isHistoricalLocalpart(localpart: string): boolean {
  return !localpart.includes('\0') && !LONE_SURROGATE.test(localpart);
}

function fitsIdLimit(id: string): boolean {
  // UTF-8 needs at least one byte and at most three per UTF-16 unit: skip counting when decided.
  if (id.length > MAX_ID_BYTES) return false;
  if (id.length * 3 <= MAX_ID_BYTES) return true;
  return Buffer.byteLength(id, 'utf8') <= MAX_ID_BYTES;
}

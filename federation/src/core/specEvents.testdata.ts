// Events from appendices.md "Cryptographic Test Vectors" → "Event Signing", shared by tests.
import type { Pdu } from './types.js';

/** The minimally-sized event, before signing. */
export const minimalEvent = (): Pdu => ({
  room_id: '!x:domain',
  sender: '@a:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {} as Pdu['hashes'],
  type: 'X',
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
});

/** The spec's expected output of signing `minimalEvent`. */
export const minimalEventSigned = (): Pdu => ({
  auth_events: [],
  content: {},
  depth: 3,
  hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
  origin: 'domain',
  origin_server_ts: 1000000,
  prev_events: [],
  room_id: '!x:domain',
  sender: '@a:domain',
  signatures: {
    domain: {
      'ed25519:1': 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
    },
  },
  type: 'X',
  unsigned: { age_ts: 1000000 },
});

/** The event with redactable content (a v1-style event carrying `event_id`), before signing. */
export const messageEvent = (): Pdu =>
  ({
    content: { body: 'Here is the message content' },
    event_id: '$0:domain',
    origin: 'domain',
    origin_server_ts: 1000000,
    type: 'm.room.message',
    room_id: '!r:domain',
    sender: '@u:domain',
    signatures: {},
    unsigned: { age_ts: 1000000 },
  }) as unknown as Pdu; // the spec example omits depth/prev_events/auth_events/hashes

export const messageEventSigned = (): Pdu => ({
  ...messageEvent(),
  hashes: { sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' },
  signatures: {
    domain: {
      'ed25519:1': 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
    },
  },
});

/** appendices.md "Cryptographic Test Vectors" → "Signing Key". */
export const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';

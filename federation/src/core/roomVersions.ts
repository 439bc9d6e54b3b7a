// Room versions as data: one row of rule flags per version, so that code asks
// "does this version do X?" instead of comparing version strings.
// Spec: content/rooms/v1.md … v12.md; content/rooms/_index.md for stability.

export type EventIdFormat = 'v1' | 'v3' | 'v4';
export type RedactionRules = 'v1' | 'v6' | 'v9' | 'v11';
export type StateResAlgorithm = 'v1' | 'v2' | 'v2.1';

export interface RoomVersionRules {
  id: string;
  /** rooms/_index.md: stable versions may be used for new rooms. */
  stable: boolean;
  /** v1/v2: `event_id` carried in the event; v3: reference hash, standard base64; v4+: URL-safe base64. */
  eventIdFormat: EventIdFormat;
  /** Which keys the redaction algorithm keeps (v1 fragments/v1-redactions.md, v6, v9, v11). */
  redaction: RedactionRules;
  stateRes: StateResAlgorithm;
  /** v5+: a signing key must be valid at `origin_server_ts` (fragments/v5-signing-requirements.md). */
  enforceKeyValidity: boolean;
  /** v6+: canonical JSON rejects integers outside [-(2^53)+1, 2^53-1] (fragments/v6-canonical-json.md). */
  strictCanonicalJson: boolean;
  /** v6+: `m.room.aliases` no longer has special auth rules. */
  specialCaseAliasesAuth: boolean;
  /** v6+: power levels may carry `notifications` (room: 50 by default), checked like other levels when changed. */
  limitNotificationsPowerLevels: boolean;
  /** v7+: `knock` membership and join rule. */
  knocking: boolean;
  /** v8+: `restricted` join rule (v10+: also `knock_restricted`). */
  restrictedJoins: boolean;
  knockRestrictedJoins: boolean;
  /** v10+: power level values must be integers, not strings (fragments/v1-stringy-power-levels.md). */
  integerPowerLevels: boolean;
  /** v11+: `m.room.create` has no `creator`; the sender is the creator. */
  creatorIsSender: boolean;
  /** v11+: `redacts` lives in `content` of m.room.redaction rather than at the top level. */
  redactsInContent: boolean;
  /** v12: room ID is `!` + the create event's reference hash; the create event has no `room_id`. */
  roomIdIsCreateEventHash: boolean;
  /** v12: the create event is never listed in `auth_events`. */
  createEventNotInAuthEvents: boolean;
  /** v12: sender and `additional_creators` of the create event have infinite power. */
  privilegedCreators: boolean;
}

const base: RoomVersionRules = {
  id: '1',
  stable: true,
  eventIdFormat: 'v1',
  redaction: 'v1',
  stateRes: 'v1',
  enforceKeyValidity: false,
  strictCanonicalJson: false,
  specialCaseAliasesAuth: true,
  limitNotificationsPowerLevels: false,
  knocking: false,
  restrictedJoins: false,
  knockRestrictedJoins: false,
  integerPowerLevels: false,
  creatorIsSender: false,
  redactsInContent: false,
  roomIdIsCreateEventHash: false,
  createEventNotInAuthEvents: false,
  privilegedCreators: false,
};

const v2: RoomVersionRules = { ...base, id: '2', stateRes: 'v2' };
const v3: RoomVersionRules = { ...v2, id: '3', eventIdFormat: 'v3' };
const v4: RoomVersionRules = { ...v3, id: '4', eventIdFormat: 'v4' };
const v5: RoomVersionRules = { ...v4, id: '5', enforceKeyValidity: true };
const v6: RoomVersionRules = {
  ...v5,
  id: '6',
  redaction: 'v6',
  strictCanonicalJson: true,
  specialCaseAliasesAuth: false,
  limitNotificationsPowerLevels: true,
};
const v7: RoomVersionRules = { ...v6, id: '7', knocking: true };
const v8: RoomVersionRules = { ...v7, id: '8', restrictedJoins: true };
const v9: RoomVersionRules = { ...v8, id: '9', redaction: 'v9' };
const v10: RoomVersionRules = { ...v9, id: '10', knockRestrictedJoins: true, integerPowerLevels: true };
const v11: RoomVersionRules = { ...v10, id: '11', redaction: 'v11', creatorIsSender: true, redactsInContent: true };
const v12: RoomVersionRules = {
  ...v11,
  id: '12',
  stateRes: 'v2.1',
  roomIdIsCreateEventHash: true,
  createEventNotInAuthEvents: true,
  privilegedCreators: true,
};

const table = new Map<string, RoomVersionRules>(
  [base, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12].map((v) => [v.id, v]),
);

/** client-server-api: the default room version for new rooms (rooms/_index.md recommends 12). */
export const DEFAULT_ROOM_VERSION = '12';

/** The rules of a known room version, or undefined for an unknown one. */
export function roomVersion(id: string): RoomVersionRules | undefined {
  return table.get(id);
}

export function knownRoomVersions(): RoomVersionRules[] {
  return [...table.values()];
}

// What the accounts area needs from other services. main.ts plugs in the
// implementations; until the rooms and E2EE services provide them, no-ops stand in.
// Ports are read at call time, so main.ts may replace them after construction.
import type { Profile } from '../storage/usersRepo.js';

export interface MembershipPort {
  /** Leave (or reject invites to) every room the user is in; called once a deactivation is durable. */
  leaveAllRooms(userId: string): Promise<void>;
}

export interface ProfilePort {
  /**
   * The user's displayname or avatar changed (already stored). Synapse sends an
   * updated m.room.member event into each joined room.
   * Spec: client-server-api/_index.md "Events on Change of Profile Information"
   */
  profileChanged(userId: string, profile: Profile): Promise<void>;
}

export interface DeviceEventsPort {
  /** The devices and their tokens are gone: drop their E2EE keys and tell device-list watchers. */
  devicesDeleted(userId: string, deviceIds: string[]): Promise<void>;
  /** A device's display name changed (device lists carry it). */
  deviceUpdated(userId: string, deviceId: string): Promise<void>;
}

export interface AccountPorts {
  membership: MembershipPort;
  profile: ProfilePort;
  deviceEvents: DeviceEventsPort;
  /** Profiles of other servers' users (federation query/profile); absent without federation. */
  remoteProfile?: RemoteProfilePort;
}

export interface RemoteProfilePort {
  /** The user's profile as their server tells it; undefined if it has none (or cannot be asked). */
  profile(userId: string): Promise<{ displayname?: string; avatar_url?: string } | undefined>;
}

/** Stand-ins until the rooms and E2EE services exist. */
export function noopAccountPorts(): AccountPorts {
  return {
    membership: { leaveAllRooms: async () => {} },
    profile: { profileChanged: async () => {} },
    deviceEvents: { devicesDeleted: async () => {}, deviceUpdated: async () => {} },
  };
}

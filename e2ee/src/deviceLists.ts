// Device-list tracking: every change to a user's devices or cross-signing keys
// takes a position in the global stream and wakes the syncs of the people who
// share a room with that user; /sync and /keys/changes then tell each client whose
// lists changed and with whom it no longer shares a room.
// Spec: modules/end_to_end_encryption.md "Tracking the device list for a user",
// "Extensions to /sync"; keys.yaml GET /keys/changes.
//
// As Synapse does, "sharing" means sharing any joined room, encrypted or not, and a
// user who newly shares a room is reported as changed even if another room was
// already shared (the spec's note allows it).
import type { ChangeNotifier, E2eeStore, MembershipChangeHints, MembershipReader, StreamPositions } from './ports.js';

type MyRooms = ReadonlyArray<{ roomId: string; member: { membership: string; stream: number } }>;

/** Without hints every room may have changed. */
const NO_HINTS: MembershipChangeHints = { mayHaveChangedSince: () => true };

export interface DeviceListChanges {
  changed: string[];
  left: string[];
}

/** Told of every change of a user's public device list (keys, devices, cross-signing), after it is written. */
export type DeviceListListener = (userId: string, pos: number) => void;

export class DeviceLists {
  private readonly listeners: DeviceListListener[] = [];

  constructor(
    private readonly store: Pick<E2eeStore, 'deviceListChanges'>,
    private readonly rooms: MembershipReader,
    private readonly stream: StreamPositions,
    private readonly notifier: ChangeNotifier,
    private readonly hints: MembershipChangeHints = NO_HINTS,
  ) {}

  /**
   * Take a stream position for a change of `userId`'s devices, run the write with it,
   * and wake the syncs of the user and (unless `selfOnly`) of everyone in the user's joined rooms.
   */
  async change<T>(userId: string, write: (pos: number) => Promise<T>, opts: { selfOnly?: boolean } = {}): Promise<T> {
    const rooms = opts.selfOnly ? [] : await this.joinedRooms(userId);
    return this.stream.run(async (pos) => {
      const result = await write(pos);
      this.notifier.notify(pos, { users: [userId], rooms });
      // Others' servers hear of changes the user's room-mates see (federation: m.device_list_update).
      if (!opts.selfOnly) for (const l of this.listeners) l(userId, pos);
      return result;
    });
  }

  /** Listen to public device-list changes (a listener must not throw). */
  onPublicChange(listener: DeviceListListener): void {
    this.listeners.push(listener);
  }

  /** Rooms the user is joined to now. */
  async joinedRooms(userId: string): Promise<string[]> {
    return (await this.rooms.roomsOfUser(userId)).filter((r) => r.member.membership === 'join').map((r) => r.roomId);
  }

  /** Whose device lists `userId` should re-fetch, and whom it should stop tracking, for changes in (since, upTo]. */
  async changesFor(userId: string, since: number, upTo: number): Promise<DeviceListChanges> {
    if (upTo <= since) return { changed: [], left: [] };
    const myRooms = await this.rooms.roomsOfUser(userId);
    const listChanges = await this.store.deviceListChanges(since, upTo);
    // The common case (a message woke the sync): no list changed and no membership moved.
    if (listChanges.length === 0 && !(await this.membershipsMayHaveChanged(myRooms, since, upTo))) return { changed: [], left: [] };
    const joined = new Set(myRooms.filter((r) => r.member.membership === 'join').map((r) => r.roomId));
    // Users known to share a joined room with `userId` now (filled as members are read).
    const sharing = new Set<string>([userId]);
    const candidates = await this.membershipCandidates(myRooms, joined, since, upTo, sharing);

    const sharesNow = async (u: string): Promise<boolean> => {
      if (sharing.has(u)) return true;
      const theirs = await this.rooms.roomsOfUser(u);
      const yes = theirs.some((r) => r.member.membership === 'join' && joined.has(r.roomId));
      if (yes) sharing.add(u);
      return yes;
    };

    const changed = new Set<string>();
    const left = new Set<string>();
    for (const { userId: u, selfOnly } of listChanges) {
      if (selfOnly && u !== userId) continue;
      if (!changed.has(u) && (await sharesNow(u))) changed.add(u);
    }
    for (const u of candidates) {
      if (u === userId || changed.has(u)) continue;
      if (await sharesNow(u)) changed.add(u);
      else left.add(u);
    }
    return { changed: [...changed].sort(), left: [...left].sort() };
  }

  /** Whether no membership changed in the rooms after `since`, known without waiting (false when unsure). */
  membershipsUnchanged(roomIds: readonly string[], since: number): boolean {
    for (const roomId of roomIds) if (this.hints.mayHaveChangedSince(roomId, since) !== false) return false;
    return true;
  }

  /** Whether membershipCandidates could find anyone: the checks it makes, without reading members. */
  private async membershipsMayHaveChanged(myRooms: MyRooms, since: number, upTo: number): Promise<boolean> {
    for (const r of myRooms) {
      if (r.member.stream > since && r.member.stream <= upTo) return true;
      if (r.member.membership !== 'join') continue;
      // Usually answered at once: awaited only when it is a promise (a turn of the queue per room otherwise).
      const hint = this.hints.mayHaveChangedSince(r.roomId, since);
      if (hint === true || (hint !== false && (await hint))) return true;
    }
    return false;
  }

  /**
   * Users whose sharing of a room with `userId` may have started or ended in (since, upTo]:
   * members whose membership changed in one of the user's rooms, and everyone in a room
   * the user joined or left.
   */
  private async membershipCandidates(
    myRooms: MyRooms,
    joined: Set<string>,
    since: number,
    upTo: number,
    sharing: Set<string>,
  ): Promise<Set<string>> {
    const inRange = (pos: number) => pos > since && pos <= upTo;
    const candidates = new Set<string>();
    const addMembers = async (roomId: string, onlyChanged: boolean) => {
      for (const m of await this.rooms.members(roomId)) {
        if (m.member.membership === 'join' && joined.has(roomId)) sharing.add(m.userId);
        if (!onlyChanged || inRange(m.member.stream)) candidates.add(m.userId);
      }
    };

    // My own membership changed in range: everyone in that room may have started or stopped sharing.
    const mine = myRooms.filter((r) => inRange(r.member.stream));
    for (const r of mine) await addMembers(r.roomId, false);

    // Rooms I stayed in: members whose membership changed in range.
    for (const r of myRooms) {
      if (joined.has(r.roomId) && !inRange(r.member.stream) && (await this.hints.mayHaveChangedSince(r.roomId, since))) {
        await addMembers(r.roomId, true);
      }
    }
    return candidates;
  }
}

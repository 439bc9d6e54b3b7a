// Test support: a real Database in a temp dir with the room service on top.
// Used by the room tests only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signingKeyFromSeed } from '@parley/federation/signing/ed25519Key';
import type { RoomOutput } from '../events/outputs.js';
import type { Requester } from '../http/route.js';
import type { Database } from '../storage/db.js';
import type { StreamCounter } from '../storage/streamCounter.js';
import { openTestRoomsModule } from '../testing/rooms.js';
import { openTestStorage } from '../testing/storage.js';
import type { ProfileLookup } from './ports.js';
import type { Rooms } from './roomsModule.js';

export const SERVER = 'test.parley';
export const user = (name: string) => `@${name}:${SERVER}`;
export const requester = (name: string, deviceId = 'DEV'): Requester => ({ userId: user(name), deviceId, isAdmin: false });

export class MapProfiles implements ProfileLookup {
  readonly map = new Map<string, { displayname?: string; avatar_url?: string }>();
  async profile(userId: string) {
    return this.map.get(userId) ?? {};
  }
}

export interface TestRooms {
  dir: string;
  db: Database;
  counter: StreamCounter;
  rooms: Rooms;
  profiles: MapProfiles;
  outputs: RoomOutput[];
  /** Close the database and open it again in the same directory. */
  reopen(): Promise<TestRooms>;
  close(): Promise<void>;
  /** Close and delete the directory. */
  dispose(): Promise<void>;
}

const KEY_SEED = Buffer.alloc(32, 7);

export async function openTestRooms(dir = mkdtempSync(join(tmpdir(), 'parley-rooms-')), profiles = new MapProfiles()): Promise<TestRooms> {
  // The directory is ours to keep across reopen(); dispose() deletes it.
  const storage = await openTestStorage({ dir });
  const { db, stream: counter, outputs } = storage;
  const seen: RoomOutput[] = [];
  outputs.subscribe((o) => seen.push(o));
  const rooms = await openTestRoomsModule(storage, { serverName: SERVER, signingKey: signingKeyFromSeed('ed25519:test', KEY_SEED), profiles });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await rooms.drain();
    await storage.close();
  };
  return {
    dir,
    db,
    counter,
    rooms,
    profiles,
    outputs: seen,
    async reopen() {
      await close();
      return openTestRooms(dir, profiles);
    },
    close,
    async dispose() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

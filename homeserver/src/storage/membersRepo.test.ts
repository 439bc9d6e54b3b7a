// Room member lists kept in memory (storage/roomMembersCache.ts) on a real database: what
// the push worker and the federation sender read per event must follow every membership
// write, including one that lands while the list is being read.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MemberRecord } from '../rooms/types.js';
import { Batch } from './batch.js';
import { Database } from './db.js';
import { MembersRepo } from './membersRepo.js';
import { RoomMembersCache, type RoomMemberRow } from './roomMembersCache.js';

const ROOM = 7;
let stream = 0;
const m = (membership: MemberRecord['membership']): MemberRecord => ({ membership, eventId: `$e${++stream}`, stream });

async function withRepo(fn: (repo: MembersRepo, db: Database) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-members-'));
  const db = await Database.open(dir);
  try {
    await fn(new MembersRepo(db), db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function write(repo: MembersRepo, db: Database, userId: string, member: MemberRecord): Promise<void> {
  const batch = new Batch();
  repo.put(batch, ROOM, userId, member);
  await batch.commit(db);
}

test('it should follow joins and leaves in the member list, joined count and servers once they are read', () =>
  withRepo(async (repo, db) => {
    await write(repo, db, '@a:us.test', m('join'));
    await write(repo, db, '@h:hr.test', m('join'));
    assert.equal(await repo.joinedCount(ROOM), 2);
    assert.deepEqual([...(await repo.joinedServers(ROOM))].sort(), ['hr.test', 'us.test']);

    await write(repo, db, '@e:eng.test', m('join'));
    await write(repo, db, '@h:hr.test', m('leave'));
    await write(repo, db, '@i:hr.test', m('invite'));
    assert.equal(await repo.joinedCount(ROOM), 2);
    assert.deepEqual([...(await repo.joinedServers(ROOM))].sort(), ['eng.test', 'us.test'], 'a server whose last member left is no longer a destination');
    const list = (await repo.ofRoom(ROOM)).map((r) => `${r.userId}=${r.member.membership}`).sort();
    assert.deepEqual(list, ['@a:us.test=join', '@e:eng.test=join', '@h:hr.test=leave', '@i:hr.test=invite']);
    assert.equal((await repo.get(ROOM, '@h:hr.test'))?.membership, 'leave');

    // A fresh repository on the same database reads what the cached one answered.
    const cold = new MembersRepo(db);
    assert.deepEqual((await cold.ofRoom(ROOM)).map((r) => `${r.userId}=${r.member.membership}`).sort(), list);
    assert.equal(await cold.joinedCount(ROOM), 2);
  }));

test('it should keep a membership written while the room was being read, whichever way the read went', async () => {
  let release!: (rows: RoomMemberRow[]) => void;
  const cache = new RoomMembersCache(() => new Promise((resolve) => (release = resolve)));
  const loading = cache.room(ROOM);
  // Bob joins, then leaves while the read is in flight; the read saw only his join.
  const join = m('join');
  cache.committed(ROOM, '@bob:us.test', join);
  cache.committed(ROOM, '@bob:us.test', m('leave'));
  release([
    { userId: '@alice:us.test', member: m('join') },
    { userId: '@bob:us.test', member: join },
  ]);
  const set = await loading;
  assert.equal(set.get('@bob:us.test')?.membership, 'leave');
  assert.equal(set.joined, 1);
  // Later writes reach the kept list without another read.
  cache.committed(ROOM, '@carol:eng.test', m('join'));
  const again = await cache.room(ROOM);
  assert.equal(again.joined, 2);
  assert.deepEqual([...again.joinedServers()].sort(), ['eng.test', 'us.test']);
});

test('it should read a room again after it was forgotten (a purge)', async () => {
  let reads = 0;
  const cache = new RoomMembersCache(async () => {
    reads++;
    return reads === 1 ? [{ userId: '@alice:us.test', member: m('join') }] : [];
  });
  assert.equal((await cache.room(ROOM)).joined, 1);
  cache.forget(ROOM);
  assert.equal((await cache.room(ROOM)).joined, 0);
  assert.equal(reads, 2);
});

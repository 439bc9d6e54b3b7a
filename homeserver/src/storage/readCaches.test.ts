// The in-memory read caches of the relations and membership indexes (kept so that a
// message fanned out to many syncing users is not re-read from disk for each of them)
// must never hide a write: a child or membership committed after a cached read shows
// up on the next read, and one staged but not yet committed is not cached as absent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Batch } from './batch.js';
import { Database } from './db.js';
import { MembersRepo } from './membersRepo.js';
import { RelationsRepo } from './relationsRepo.js';

async function withDb(fn: (db: Database) => Promise<void>): Promise<void> {
  const t = await openTestDatabase({ prefix: 'parley-readcaches-' });
  try {
    await fn(t.db);
  } finally {
    await t.close();
  }
}

const child = (eventId: string, stream: number) => ({
  eventId,
  shortRoom: 1,
  stream,
  type: 'm.room.message',
  sender: '@a:x',
  parentId: '$parent',
  relType: 'm.replace',
});

test('it should show an edit committed after the original was served without one', async () => {
  await withDb(async (db) => {
    const relations = new RelationsRepo(db);
    assert.equal(await relations.hasChildren('$parent'), false);
    assert.deepEqual(await relations.all('$parent', 'm.replace'), []);

    const batch = new Batch();
    relations.stage(batch, child('$edit', 7));
    // Read while the write is pending: must not be remembered as "no children".
    assert.equal(await relations.hasChildren('$parent'), false);
    await batch.commit(db);

    assert.equal(await relations.hasChildren('$parent'), true);
    assert.deepEqual(
      (await relations.all('$parent', 'm.replace')).map((e) => e.eventId),
      ['$edit'],
    );
  });
});

test('it should list a room a user joined after their room list was read', async () => {
  await withDb(async (db) => {
    const members = new MembersRepo(db);
    const join = (stream: number) => ({ membership: 'join' as const, eventId: `$m${stream}`, stream });
    const b1 = new Batch();
    members.put(b1, 1, '@a:x', join(1));
    await b1.commit(db);
    assert.deepEqual((await members.ofUser('@a:x')).map((r) => r.shortRoom), [1]);

    const b2 = new Batch();
    members.put(b2, 2, '@a:x', join(2));
    assert.deepEqual((await members.ofUser('@a:x')).map((r) => r.shortRoom), [1], 'not yet durable');
    await b2.commit(db);
    assert.deepEqual((await members.ofUser('@a:x')).map((r) => r.shortRoom), [1, 2]);

    // What callers get is shared and frozen: nobody can change the cache through it.
    const shared = await members.ofUser('@a:x');
    assert.throws(() => (shared as Array<unknown>).pop(), TypeError);
    assert.equal((await members.ofUser('@a:x')).length, 2);
  });
});

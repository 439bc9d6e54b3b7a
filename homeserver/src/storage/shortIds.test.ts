// Short IDs of state keys: a key found unmapped is remembered as absent (so a room without,
// say, a server ACL is not asked about it on disk for every transaction), and that memory must
// never hide a mapping made since, nor let one long ID get two short IDs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Batch } from './batch.js';
import type { Database } from './db.js';
import { ShortIds } from './shortIds.js';

async function withIds(fn: (ids: ShortIds, db: Database) => Promise<void>): Promise<void> {
  const t = await openTestDatabase({ prefix: 'parley-shortids-' });
  try {
    await fn(await ShortIds.open(t.db), t.db);
  } finally {
    await t.close();
  }
}

/** Database reads of one keyspace made while `fn` runs. */
async function readsOf(db: Database, fn: () => Promise<void>): Promise<number> {
  let n = 0;
  const getMany = db.getMany.bind(db);
  db.getMany = (async (space, keys) => {
    if (space === 'statekey_short') n++;
    return getMany(space, keys);
  }) as Database['getMany'];
  try {
    await fn();
  } finally {
    db.getMany = getMany;
  }
  return n;
}

const ACL = 'm.room.server_acl\u0000';

test('it should not read a state key found unmapped from disk again', async () => {
  await withIds(async (ids, db) => {
    const reads = await readsOf(db, async () => {
      for (let i = 0; i < 5; i++) assert.equal(await ids.stateKey(ACL), undefined);
    });
    assert.equal(reads, 1);
  });
});

test('it should find a state key mapped after it was found absent, with one short ID', async () => {
  await withIds(async (ids, db) => {
    assert.equal(await ids.stateKey(ACL), undefined);
    const batch = new Batch();
    const short = await ids.stateKeys.alloc(ACL, batch);
    assert.equal(await ids.stateKey(ACL), short, 'seen while its write is pending');
    await batch.commit(db);
    assert.equal(await ids.stateKey(ACL), short, 'and once durable');
    assert.equal(await ids.stateKeys.alloc(ACL, new Batch()), short);
    const reopened = await ShortIds.open(db);
    assert.equal(await reopened.stateKey(ACL), short);
  });
});

test('it should not remember a key as absent when it was mapped while being read', async () => {
  await withIds(async (ids, db) => {
    const batch = new Batch();
    // The read starts first; the mapping is made (and committed) before it returns.
    const reading = ids.stateKey(ACL);
    const short = await ids.stateKeys.alloc(ACL, batch);
    await batch.commit(db);
    await reading;
    assert.equal(await ids.stateKey(ACL), short);
    assert.equal(await ids.stateKeys.alloc(ACL, new Batch()), short, 'no second short ID');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Batch } from './batch.js';
import { Database } from './db.js';
import { EMPTY_GROUP, SNAPSHOT_INTERVAL, StateRepo } from './stateRepo.js';

test('it should resolve every state group to the state a naive replay gives, also after a restart with cold caches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-state-'));
  try {
    let db = await Database.open(dir);
    let repo = await StateRepo.open(db);
    const expected = new Map<number, Map<number, number>>([[EMPTY_GROUP, new Map()]]);
    const groups = [EMPTY_GROUP];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // Mostly a chain with occasional branches (forks of the graph), some removals.
    for (let i = 0; i < 5 * SNAPSHOT_INTERVAL; i++) {
      const parent = rand(5) === 0 ? groups[rand(groups.length)] : groups[groups.length - 1];
      const parentState = expected.get(parent)!;
      const set = new Map([[rand(40), 1000 + i]]);
      const removable = [...parentState.keys()];
      const remove = rand(7) === 0 && removable.length > 0 ? [removable[rand(removable.length)]] : [];
      const batch = new Batch();
      const { group, state } = await repo.addGroup(batch, 1, parent, await repo.resolve(parent), { set, remove });
      await batch.commit(db);
      const naive = new Map(parentState);
      for (const k of remove) naive.delete(k);
      for (const [k, e] of set) naive.set(k, e);
      assert.deepEqual(new Map(state), naive);
      expected.set(group, naive);
      groups.push(group);
    }
    await db.close();
    db = await Database.open(dir);
    repo = await StateRepo.open(db);
    for (const [g, naive] of expected) assert.deepEqual(new Map(await repo.resolve(g)), naive, `group ${g}`);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('it should write a snapshot often enough that resolving a group reads at most SNAPSHOT_INTERVAL records', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-state-'));
  try {
    const db = await Database.open(dir);
    const repo = await StateRepo.open(db);
    let parent = EMPTY_GROUP;
    const all: number[] = [];
    for (let i = 0; i < 3 * SNAPSHOT_INTERVAL + 5; i++) {
      const batch = new Batch();
      const { group } = await repo.addGroup(batch, 1, parent, await repo.resolve(parent), { set: new Map([[i % 10, i]]) });
      await batch.commit(db);
      all.push(group);
      parent = group;
    }
    let snapshots = 0;
    for (const g of all) {
      let reads = 0;
      for (let cur: number | undefined = g; cur !== undefined; ) {
        const rec = await repo.record(cur);
        reads++;
        cur = rec.level === 0 ? undefined : rec.parent;
      }
      assert.ok(reads <= SNAPSHOT_INTERVAL, `group ${g} needs ${reads} reads`);
      if ((await repo.record(g)).level === 0) snapshots++;
    }
    assert.equal(snapshots, Math.ceil(all.length / SNAPSHOT_INTERVAL));
    // A delta stores only its change, not the whole state.
    assert.equal((await repo.record(all[1])).set.length, 2);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('it should keep a group’s state as it was when groups are built on it, however often it is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-state-'));
  const db = await Database.open(dir);
  try {
    const repo = await StateRepo.open(db);
    const batch = new Batch();
    const { group: parent } = await repo.addGroup(batch, 1, EMPTY_GROUP, await repo.resolve(EMPTY_GROUP), { set: new Map([[1, 10]]) });
    const first = await repo.resolve(parent);
    const { group: child, state: childState } = await repo.addGroup(batch, 1, parent, first, { set: new Map([[2, 20]]), remove: [1] });
    await batch.commit(db);
    assert.deepEqual(new Map(await repo.resolve(parent)), new Map([[1, 10]]));
    assert.deepEqual(new Map(await repo.resolve(child)), new Map([[2, 20]]));
    assert.deepEqual(new Map(childState), new Map([[2, 20]]));
    assert.deepEqual(new Map(first), new Map([[1, 10]]), 'the state read first is unchanged too');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

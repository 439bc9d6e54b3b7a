// The relations index with children fetched by backfill (negative positions): they sort
// before every local child, are read by windows reaching below 0, and leave the index when
// redacted, like any child.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Batch } from './batch.js';
import { RelationsRepo, type RelationChild } from './relationsRepo.js';

const child = (eventId: string, stream: number, relType = 'm.annotation'): RelationChild => ({
  eventId,
  shortRoom: 1,
  stream,
  type: 'm.reaction',
  sender: '@a:x',
  parentId: '$parent',
  relType,
  ...(relType === 'm.annotation' ? { key: eventId } : {}),
});

test('it should keep backfilled children in order before local ones, page across both, and drop them on redaction', async () => {
  const t = await openTestDatabase({ prefix: 'parley-relations-' });
  try {
    const repo = new RelationsRepo(t.db);
    assert.equal(await repo.hasChildren('$parent'), false);
    const b = new Batch();
    repo.stage(b, child('$old2', -2));
    await b.commit(t.db);
    assert.equal(await repo.hasChildren('$parent'), true, 'a parent with only backfilled children has children');
    const more = new Batch();
    for (const c of [child('$old1', -1), child('$new5', 5), child('$new9', 9), child('$thread', -3, 'm.thread')]) repo.stage(more, c);
    await more.commit(t.db);

    const ids = (es: Array<{ eventId: string }>) => es.map((e) => e.eventId);
    assert.deepEqual(ids(await repo.all('$parent', 'm.annotation')), ['$old2', '$old1', '$new5', '$new9']);
    assert.deepEqual(ids(await repo.children('$parent', { relType: 'm.annotation', dir: 'b', limit: 10 })), ['$new9', '$new5', '$old1', '$old2']);
    assert.deepEqual(ids(await repo.children('$parent', { relType: 'm.annotation', upTo: -1, dir: 'b', limit: 10 })), ['$old1', '$old2'], 'a window below 0');
    assert.deepEqual(ids(await repo.children('$parent', { after: -2, dir: 'f', limit: 10 })), ['$old1', '$new5', '$new9'], 'all types, after a negative cursor');
    assert.deepEqual((await repo.children('$parent', { relType: 'm.thread', dir: 'f', limit: 10 })).map((e) => e.stream), [-3]);
    assert.deepEqual(await repo.threadActivity(1, Number.MAX_SAFE_INTEGER, 10), [], 'history takes no place in /threads activity');

    const redact = new Batch();
    await repo.unstage(redact, child('$old1', -1));
    await redact.commit(t.db);
    assert.deepEqual(ids(await repo.all('$parent', 'm.annotation')), ['$old2', '$new5', '$new9']);
    assert.equal(await repo.annotation('$parent', '@a:x', 'm.reaction', '$old1'), undefined);
  } finally {
    await t.close();
  }
});

// The media service with a real database and file store: what survives a restart,
// and what happens when uploads race.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { configSchema } from '../config/config.js';
import { MatrixError } from '../http/errors.js';
import { Database } from '../storage/db.js';
import { createMediaModule } from './mediaModule.js';

const SERVER = 'svc.test';
const config = { serverName: SERVER, media: configSchema.parse({}).media };

async function text(stream: Readable): Promise<string> {
  let s = '';
  for await (const c of stream) s += (c as Buffer).toString();
  return s;
}

test('it should still serve acknowledged uploads and created IDs after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-media-svc-'));
  try {
    let db = await Database.open(join(dir, 'db'));
    let m = await createMediaModule(db, { ...config, dataDir: dir }, pino({ level: 'silent' }));
    const uri = await m.media.upload('@a:svc.test', Readable.from([Buffer.from('kept')]), { contentType: 'text/plain', filename: 'k.txt' });
    const created = await m.media.create('@a:svc.test');
    await db.close();

    db = await Database.open(join(dir, 'db'));
    m = await createMediaModule(db, { ...config, dataDir: dir }, pino({ level: 'silent' }));
    const [, , server, id] = uri.split('/');
    const got = await m.media.download(server, id);
    assert.equal(await text(got.stream), 'kept');
    assert.equal(got.uploadName, 'k.txt');
    const pendingId = created.content_uri.split('/')[3];
    await m.media.uploadTo('@a:svc.test', SERVER, pendingId, Readable.from([Buffer.from('later')]), {});
    assert.equal(await text((await m.media.download(SERVER, pendingId)).stream), 'later');
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('it should let only one of two racing uploads to the same created ID win', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-media-svc-'));
  const db = await Database.open(join(dir, 'db'));
  try {
    const m = await createMediaModule(db, { ...config, dataDir: dir }, pino({ level: 'silent' }));
    const id = (await m.media.create('@a:svc.test')).content_uri.split('/')[3];
    const results = await Promise.allSettled(
      ['one', 'two'].map((body) => m.media.uploadTo('@a:svc.test', SERVER, id, Readable.from([Buffer.from(body)]), {})),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(lost.reason instanceof MatrixError && lost.reason.errcode === 'M_CANNOT_OVERWRITE_MEDIA');
    assert.ok(['one', 'two'].includes(await text((await m.media.download(SERVER, id)).stream)));
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

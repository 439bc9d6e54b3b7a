// The local content-addressed store: durable, deduplicated, and never showing
// half-written content under a hash name, even across a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { FileMediaStore } from './fileMediaStore.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function withStore(fn: (root: string, store: FileMediaStore) => Promise<void>) {
  const root = join(mkdtempSync(join(tmpdir(), 'parley-store-')), 'media');
  try {
    await fn(root, await FileMediaStore.open(root));
  } finally {
    rmSync(join(root, '..'), { recursive: true, force: true });
  }
}

/** Every file under root, except temporary ones. */
function contentFiles(root: string): string[] {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  return walk(root).filter((p) => !p.startsWith(join(root, 'tmp')));
}

test('it should store bytes under their sha256 in ab/cd/ and read them back', async () => {
  await withStore(async (root, store) => {
    const bytes = randomBytes(200_000);
    const put = await store.put(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    assert.deepEqual(put, { sha256: sha(bytes), size: 200_000 });
    assert.equal(store.pathOf(put.sha256), join(root, put.sha256.slice(0, 2), put.sha256.slice(2, 4), put.sha256));
    assert.deepEqual(readFileSync(store.pathOf(put.sha256)), bytes);
    const got = await store.get(put.sha256);
    assert.equal(got?.size, 200_000);
    const chunks: Buffer[] = [];
    for await (const c of got!.stream) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), bytes);
    assert.equal(await store.has(put.sha256), true);
    await store.delete(put.sha256);
    assert.equal(await store.has(put.sha256), false);
    assert.equal(await store.get(put.sha256), undefined);
    assert.equal(await store.get('../../etc/passwd'), undefined);
  });
});

test('it should keep identical content once', async () => {
  await withStore(async (root, store) => {
    const bytes = randomBytes(1000);
    const a = await store.put(Readable.from([bytes]));
    const b = await store.put(Readable.from([bytes]));
    assert.equal(a.sha256, b.sha256);
    assert.equal(contentFiles(root).length, 1);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });
});

test('it should keep nothing of a put whose source fails', async () => {
  await withStore(async (root, store) => {
    const source = new PassThrough();
    const put = store.put(source);
    source.write(randomBytes(5000));
    setTimeout(() => source.destroy(new Error('client went away')), 20);
    await assert.rejects(put, /client went away/);
    assert.deepEqual(contentFiles(root), []);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });
});

test('it should never show a partially written file as content, and drop it when reopened after a crash', async () => {
  await withStore(async (root, store) => {
    const whole = randomBytes(100_000);
    const source = new PassThrough();
    const put = store.put(source);
    put.catch(() => {}); // this put is abandoned as by a crash
    source.write(whole.subarray(0, 60_000));
    // Wait until the half has reached the disk.
    for (let i = 0; i < 100; i++) {
      const tmp = readdirSync(join(root, 'tmp'));
      if (tmp.length === 1 && statSync(join(root, 'tmp', tmp[0])).size === 60_000) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(readdirSync(join(root, 'tmp')).length, 1, 'the half is in a temporary file');
    // What a crash now would leave: no content under either hash.
    assert.deepEqual(contentFiles(root), []);
    assert.equal(await store.has(sha(whole)), false);
    assert.equal(await store.has(sha(whole.subarray(0, 60_000))), false);
    // Restart: the leftover is removed, and the store works.
    const reopened = await FileMediaStore.open(root);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    const ok = await reopened.put(Readable.from([whole]));
    assert.ok(existsSync(reopened.pathOf(ok.sha256)));
    source.destroy();
  });
});

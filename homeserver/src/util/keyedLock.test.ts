import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedLock } from './keyedLock.js';

const tick = () => new Promise((r) => setImmediate(r));

test('it should run sections of one key one after another, in the order they were asked for', async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const section = (name: string) => async () => {
    log.push(`${name} in`);
    await tick();
    await tick();
    log.push(`${name} out`);
    return name;
  };
  const results = await Promise.all([lock.run('u', section('a')), lock.run('u', section('b')), lock.run('u', section('c'))]);
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(log, ['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
});

test('it should let sections of different keys overlap', async () => {
  const lock = new KeyedLock();
  let releaseA!: () => void;
  const a = lock.run('a', () => new Promise<void>((r) => (releaseA = r)));
  // 'b' completes while 'a' still holds its key.
  assert.equal(await lock.run('b', async () => 'b done'), 'b done');
  releaseA();
  await a;
});

test('it should pass a failure to its caller only and keep serving the key', async () => {
  const lock = new KeyedLock();
  const failed = lock.run('u', async () => {
    throw new Error('boom');
  });
  const next = lock.run('u', async () => 'next');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'next');
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyncNotifier, WAKE_SLICE, type StreamWatch } from './notifier.js';

/** A stream whose readable position the test moves by hand. */
class ManualStream implements StreamWatch {
  persisted = 0;
  private readonly listeners: Array<(p: number) => void> = [];
  onAdvance(l: (p: number) => void): void {
    this.listeners.push(l);
  }
  advance(to: number): void {
    this.persisted = to;
    for (const l of this.listeners) l(to);
  }
}

function setup() {
  const stream = new ManualStream();
  stream.persisted = 10;
  return { stream, notifier: new SyncNotifier(stream) };
}

describe('sync notifier', () => {
  it('it should wake a waiter at once when one of its rooms changes', async () => {
    const { stream, notifier } = setup();
    const t0 = Date.now();
    const waiting = notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 10, timeoutMs: 10_000 });
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!r:x'] });
    assert.equal(await waiting, 'woken');
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(notifier.waiting, 0);
    notifier.close();
  });

  it('it should wake a user for a change addressed to them (an invite to a room they are not in)', async () => {
    const { stream, notifier } = setup();
    const waiting = notifier.wait({ userId: '@a:x', roomIds: [], since: 10, timeoutMs: 10_000 });
    stream.persisted = 11;
    notifier.notify(11, { users: ['@a:x'], rooms: ['!other:x'] });
    assert.equal(await waiting, 'woken');
    notifier.close();
  });

  it('it should not wake for another user in an unrelated room, and time out instead', async () => {
    const { stream, notifier } = setup();
    const t0 = Date.now();
    const waiting = notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 10, timeoutMs: 300 });
    stream.persisted = 12;
    notifier.notify(11, { rooms: ['!elsewhere:x'] });
    notifier.notify(12, { users: ['@b:x'] });
    assert.equal(await waiting, 'timeout');
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
    notifier.close();
  });

  it('it should call a user quiet after a token only if nothing but room events happened in their rooms', () => {
    const { stream, notifier } = setup();
    stream.persisted = 20;
    notifier.notify(11, { rooms: ['!r:x'] }, true);
    notifier.notify(12, { rooms: ['!s:x'] });
    notifier.notify(13, { users: ['@a:x'] }, true);
    assert.equal(notifier.quiet('@b:x', ['!r:x'], 10), true, 'a room event');
    assert.equal(notifier.quiet('@b:x', ['!r:x', '!s:x'], 10), false, 'typing, a receipt… in one of the rooms');
    assert.equal(notifier.quiet('@b:x', ['!r:x', '!s:x'], 12), true, 'before the token');
    assert.equal(notifier.quiet('@a:x', [], 12), false, 'anything for the user (here their own membership)');
    assert.equal(notifier.quiet('@a:x', [], 13), true);
    notifier.notify(25, { rooms: ['!r:x'] });
    assert.equal(notifier.quiet('@b:x', ['!r:x'], 20), false, 'announced, not yet readable');
    notifier.close();
  });

  it('it should tell when every woken sync has had its turn', async () => {
    const { stream, notifier } = setup();
    assert.equal(await Promise.race([notifier.drained().then(() => 'drained'), new Promise((r) => setTimeout(() => r('waiting'), 50))]), 'drained', 'nothing queued');
    let released = 0;
    const n = WAKE_SLICE * 4;
    for (let i = 0; i < n; i++) void notifier.wait({ userId: `@u${i}:x`, roomIds: ['!big:x'], since: 10, timeoutMs: 10_000 }).then(() => released++);
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!big:x'] });
    const drained = notifier.drained().then(() => released);
    assert.equal(released, 0, 'released in later turns');
    assert.equal(await drained, n, 'every one released first');
    notifier.close();
  });

  it('it should hold a change back until its position is readable', async () => {
    const { stream, notifier } = setup();
    let outcome: string | undefined;
    void notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 10, timeoutMs: 10_000 }).then((o) => (outcome = o));
    notifier.notify(12, { rooms: ['!r:x'] }); // 11 is still being written
    await new Promise((r) => setImmediate(r));
    assert.equal(outcome, undefined, 'woken before position 12 was readable');
    stream.advance(12);
    await new Promise((r) => setImmediate(r));
    assert.equal(outcome, 'woken');
    notifier.close();
  });

  it('it should return at once when a change happened after the caller built its response', async () => {
    const { stream, notifier } = setup();
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!r:x'] });
    assert.equal(await notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 10, timeoutMs: 10_000 }), 'woken');
    // …but not for a change the caller's response already covered.
    assert.equal(await notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 11, timeoutMs: 50 }), 'timeout');
    notifier.close();
  });

  it('it should time out many waiters in deadline order with one timer', async () => {
    const { notifier } = setup();
    const order: number[] = [];
    const timeouts = [120, 40, 80, 20, 60];
    await Promise.all(
      timeouts.map((ms) => notifier.wait({ userId: `@u${ms}:x`, roomIds: [], since: 10, timeoutMs: ms }).then(() => order.push(ms))),
    );
    assert.deepEqual(order, [...timeouts].sort((a, b) => a - b));
    notifier.close();
  });

  // How fast is the fan-out benchmark's business (bench/), not a unit test's.
  it('it should wake all 10,000 waiters of one room with one notification', async () => {
    const { stream, notifier } = setup();
    const waits = Array.from({ length: 10_000 }, (_, i) =>
      notifier.wait({ userId: `@u${i}:x`, roomIds: ['!busy:x', `!own${i}:x`], since: 10, timeoutMs: 60_000 }),
    );
    assert.equal(notifier.waiting, 10_000);
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!busy:x'] });
    const outcomes = await Promise.all(waits);
    assert.ok(outcomes.every((o) => o === 'woken'));
    assert.equal(notifier.waiting, 0);
    notifier.close();
  });

  it('it should wake a sync by one key, leave the other syncs of its keys held, and forget every key once all have ended', async () => {
    const { stream, notifier } = setup();
    const a = notifier.wait({ userId: '@a:x', roomIds: ['!one:x', '!two:x'], since: 10, timeoutMs: 60_000 });
    const b = notifier.wait({ userId: '@b:x', roomIds: ['!two:x'], since: 10, timeoutMs: 150 });
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!one:x'] });
    assert.equal(await a, 'woken');
    // a's next sync waits on the same keys; a change in !two wakes it and b, once each.
    const a2 = notifier.wait({ userId: '@a:x', roomIds: ['!one:x', '!two:x'], since: 11, timeoutMs: 60_000 });
    stream.persisted = 12;
    notifier.notify(12, { rooms: ['!two:x'], users: ['@a:x'] });
    assert.deepEqual([await a2, await b], ['woken', 'woken']);
    assert.equal(notifier.keysHeld, 0);
    // One held sync ended by a wake, another by its timeout: neither leaves its keys behind.
    const c = notifier.wait({ userId: '@c:x', roomIds: ['!three:x'], since: 12, timeoutMs: 60_000 });
    const d = notifier.wait({ userId: '@d:x', roomIds: ['!four:x'], since: 12, timeoutMs: 100 });
    stream.persisted = 13;
    notifier.notify(13, { rooms: ['!three:x'] });
    assert.equal(await c, 'woken');
    assert.equal(notifier.keysHeld, 3);
    assert.equal(await d, 'timeout');
    assert.equal(notifier.keysHeld, 0);
    assert.equal(notifier.waiting, 0);
    notifier.close();
  });

  it('it should release every held request on close', async () => {
    const { notifier } = setup();
    const w = notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 10, timeoutMs: 60_000 });
    notifier.close();
    assert.equal(await w, 'closed');
    assert.equal(await notifier.wait({ userId: '@a:x', roomIds: [], since: 10, timeoutMs: 60_000 }), 'closed');
  });
  it('it should release a large wake in slices, so that other work runs before the last waiter', async () => {
    const { stream, notifier } = setup();
    let released = 0;
    const all = Array.from({ length: 5000 }, (_, i) =>
      notifier.wait({ userId: `@u${i}:x`, roomIds: ['!big:x'], since: 10, timeoutMs: 60_000 }).then((o) => {
        released++;
        return o;
      }),
    );
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!big:x'] });
    // Work queued just after the wake (e.g. the sender's own reply) is not stuck behind all of them.
    const seenByOtherWork = await new Promise<number>((resolve) => setImmediate(() => resolve(released)));
    assert.ok(seenByOtherWork < 5000, `other work ran only after ${seenByOtherWork} releases`);
    assert.deepEqual(new Set(await Promise.all(all)), new Set(['woken']));
    assert.equal(notifier.waiting, 0);
    notifier.close();
  });

  it('it should still release woken waiters when closed in the middle of a sliced wake', async () => {
    const { stream, notifier } = setup();
    const all = Array.from({ length: 500 }, (_, i) => notifier.wait({ userId: `@u${i}:x`, roomIds: ['!big:x'], since: 10, timeoutMs: 60_000 }));
    const other = notifier.wait({ userId: '@quiet:x', roomIds: ['!other:x'], since: 10, timeoutMs: 60_000 });
    stream.persisted = 11;
    notifier.notify(11, { rooms: ['!big:x'] });
    notifier.close();
    assert.deepEqual(new Set(await Promise.all(all)), new Set(['woken']));
    assert.equal(await other, 'closed');
  });

  it('it should release syncs woken by a room event only once the event is ready for them (its unread counts), and others at once', async () => {
    const { stream, notifier } = setup();
    const asked: number[] = [];
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    notifier.setReadyGate((pos) => {
      asked.push(pos);
      return gate;
    });
    const outcomes: string[] = [];
    const byMessage = notifier.wait({ userId: '@a:x', roomIds: ['!r:x'], since: 10, timeoutMs: 10_000 }).then((o) => outcomes.push(`message ${o}`));
    const byToDevice = notifier.wait({ userId: '@b:x', roomIds: [], since: 10, timeoutMs: 10_000 }).then((o) => outcomes.push(`to-device ${o}`));
    stream.persisted = 12;
    notifier.notify(11, { rooms: ['!r:x'] }, true);
    notifier.notify(12, { users: ['@b:x'] });
    await byToDevice;
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(outcomes, ['to-device woken'], 'the message’s sync waits for the gate');
    assert.deepEqual(asked, [11]);
    open();
    await byMessage;
    assert.deepEqual(outcomes, ['to-device woken', 'message woken']);
    // A later wake for a position already passed does not ask again.
    const again = notifier.wait({ userId: '@c:x', roomIds: ['!r:x'], since: 9, timeoutMs: 10_000 });
    assert.equal(await again, 'woken');
    notifier.close();
  });
});

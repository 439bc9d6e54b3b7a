import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateKeyOf } from '@parley/federation/core/types';
import { key } from '../storage/keys.js';
import { runUntilKilled } from '../testing/killChild.js';
import { openTestRooms } from './testing.js';

const CHILD = fileURLToPath(new URL(`./crashChild${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

test('it should keep every acknowledged event with all its indexes after a SIGKILL, and never half of one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
  try {
    const reported = await runUntilKilled(CHILD, [dir], 150);
    const [roomIds, eventIds] = [reported.slice(0, 2), reported.slice(2)];
    const t = await openTestRooms(dir);
    try {
      const { reader, storage } = t.rooms;
      for (const id of eventIds) assert.ok(await reader.getEvent(id), `acknowledged event ${id} is missing`);

      for (const roomId of roomIds) {
        const shortRoom = (await storage.ids.room(roomId))!;
        const record = (await storage.rooms.get(shortRoom))!;
        const timeline = await reader.timeline(roomId, { dir: 'f', limit: 100_000 });
        // Everything stored for the room, acknowledged or not, is complete and consistent.
        for (const ev of timeline) {
          const rec = (await storage.events.byId(ev.eventId))!;
          assert.deepEqual(await storage.ids.eventIdsOf([rec.shortEvent]), [ev.eventId], 'short → event ID mapping');
          const [global] = await storage.db.getMany<[number, number]>('stream_roomevent', [key(ev.stream)]);
          assert.deepEqual(global, [shortRoom, rec.shortEvent], 'global stream entry');
          const after = await reader.stateAfter(ev.eventId);
          if (typeof ev.pdu.state_key === 'string') {
            assert.equal(after?.get(stateKeyOf(ev.pdu.type, ev.pdu.state_key)), ev.eventId, 'state group after a state event holds it');
          }
          if (ev.pdu.type === 'm.room.member') {
            const m = await storage.members.get(shortRoom, ev.pdu.state_key!);
            assert.ok(m && m.stream >= ev.stream, 'membership index written with the member event');
          }
        }
        const last = timeline[timeline.length - 1];
        assert.deepEqual(record.extremities.map((x) => x.eventId), [last.eventId], 'the room tip is the last stored event');
        assert.equal(record.lastStream, last.stream);
        // The materialised current state equals the tip's state group.
        const materialised = await storage.state.current(shortRoom);
        assert.deepEqual(new Map(await storage.state.resolve(record.stateGroup)), materialised);
        assert.deepEqual(await reader.currentState(roomId), await reader.stateAfter(last.eventId));
        for (const { userId, member } of await reader.members(roomId)) {
          assert.equal((await reader.currentStateEvent(roomId, 'm.room.member', userId))?.eventId, member.eventId);
        }
      }
      // Writing continues after the crash, above every position handed out before it.
      const maxStream = Math.max(...(await reader.eventsSince(0, Number.MAX_SAFE_INTEGER, 100_000)).map((e) => e.stream));
      const id = await t.rooms.events.send({ userId: '@alice:test.parley', deviceId: 'D', isAdmin: false }, roomIds[0], 'm.room.message', 'after', { body: 'after crash' });
      assert.ok((await reader.getEvent(id))!.stream > maxStream);
    } finally {
      await t.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Child process for the crash-consistency test (crash.test.ts): writes room events
// in a loop into the database directory given as argv[2] and prints each event ID
// on stdout once its write resolved, until it is killed.
import { openTestRooms, requester, user } from './testing.js';

const t = await openTestRooms(process.argv[2]);
const report = (eventId: string) => process.stdout.write(eventId + '\n');
const rooms = await Promise.all(['alice', 'bob'].map(async (who) => (await t.rooms.creator.createRoom(requester(who), { preset: 'public_chat' })).room_id));
for (const id of rooms) report(id);

// Two rooms written concurrently, mixing messages, state and membership.
await Promise.all(
  rooms.map(async (roomId, r) => {
    const owner = r === 0 ? 'alice' : 'bob';
    for (let i = 0; ; i++) {
      let id: string;
      if (i % 5 === 1) id = await t.rooms.events.setState(requester(owner), roomId, 'm.room.topic', '', { topic: `topic ${i}` });
      else if (i % 5 === 3) id = await t.rooms.membership.join(user(`u${r}_${i}`), roomId).then(async () => (await t.rooms.reader.membership(roomId, user(`u${r}_${i}`)))!.eventId);
      else id = await t.rooms.events.send(requester(owner), roomId, 'm.room.message', `txn${i}`, { body: `message ${i}`, pad: 'x'.repeat(i % 7 * 500) });
      report(id);
    }
  }),
);

// Child process for the ingest crash test (transactionBatch.test.ts): a remote server's
// user joins a local room, then transactions of 50 messages are ingested in a loop into
// the database directory given as argv[2]. The room ID is printed first, then the ID of
// every PDU the ingest accepted, once its transaction's answer is known; until killed.
import { openInboundKit, REMOTE } from '../testing/inboundKit.js';

const k = await openInboundKit({ dir: process.argv[2] });
const roomId = await k.createRoom('alice');
await k.joinRemote(roomId, 'bob');
process.stdout.write(roomId + '\n');
for (let t = 0; ; t++) {
  const pdus = [];
  for (let i = 0; i < 50; i++) {
    // Every tenth PDU a state change, so the crash can also catch state groups and memberships.
    const ev =
      i % 10 === 9
        ? k.remote.build(roomId, { type: 'm.room.member', sender: k.remote.user('bob'), stateKey: k.remote.user('bob'), content: { membership: 'join', displayname: `bob ${t}.${i}` } })
        : k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: `message ${t}.${i}` } });
    pdus.push(ev);
  }
  const results = await k.ingest.ingestPdus(REMOTE, pdus.map((e) => e.pdu));
  const accepted = pdus.filter((e) => results.get(e.eventId) !== undefined && results.get(e.eventId)!.error === undefined);
  process.stdout.write(accepted.map((e) => e.eventId + '\n').join(''));
}

// The ceiling for federation ingest: how many Ed25519 signatures node:crypto verifies per
// second on this machine right now — on the event loop (synchronous) and on libuv's
// thread pool (asynchronous, all cores). Every received PDU needs at least one.
import { generateKeyPairSync, sign, verify } from 'node:crypto';

export interface VerifyCeiling {
  syncPerSecond: number;
  asyncPerSecond: number;
}

export async function measureEd25519Verify(ms = 1500): Promise<VerifyCeiling> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // About the size of a redacted message PDU in canonical JSON.
  const data = Buffer.from(JSON.stringify({ auth_events: ['$a'.repeat(22), '$b'.repeat(22)], content: {}, depth: 12345, hashes: { sha256: 'x'.repeat(43) }, origin_server_ts: Date.now(), prev_events: ['$c'.repeat(22)], room_id: '!' + 'r'.repeat(43), sender: '@bench:127.0.0.1:19999', type: 'm.room.message' }));
  const sig = sign(null, data, privateKey);
  for (let i = 0; i < 200; i++) verify(null, data, publicKey, sig); // warm-up

  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 50; i++) verify(null, data, publicKey, sig);
    n += 50;
  }
  const syncPerSecond = (n * 1000) / (performance.now() - t0);

  let done = 0;
  const t1 = performance.now();
  await new Promise<void>((resolve) => {
    let stop = false;
    let inflight = 0;
    const one = () => {
      inflight++;
      verify(null, data, publicKey, sig, () => {
        inflight--;
        done++;
        if (performance.now() - t1 >= ms) stop = true;
        if (!stop) one();
        else if (inflight === 0) resolve();
      });
    };
    for (let i = 0; i < 64; i++) one();
  });
  const asyncPerSecond = (done * 1000) / (performance.now() - t1);
  return { syncPerSecond, asyncPerSecond };
}

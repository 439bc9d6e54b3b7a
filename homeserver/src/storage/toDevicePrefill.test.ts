// After a restart, every client's first /sync asks the to-device queues of its device. The
// start-up scan (E2eeRepo.prefillToDeviceCache) lets a device with nothing queued skip those
// reads; it must never hide a message queued before the restart or after the scan.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTestDatabase, watchReads } from '../testing/storage.js';
import { E2eeRepo } from './e2eeRepo.js';

const event = (n: number) => ({ type: 'm.test', sender: '@s:x', content: { n } });
const txn = (id: string) => ({ sender: '@s:x', senderDevice: 'S', txnId: id });

test('it should deliver to-device messages queued before a restart and after it, reading nothing for a quiet device', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-todevice-prefill-'));
  try {
    const before = await openTestDatabase({ dir });
    const repo = new E2eeRepo(before.db);
    await repo.writeToDevice(txn('1'), 5, [{ userId: '@a:x', deviceId: 'A', event: event(1) }]);
    await repo.writePartialDelivery('@b:x', 'B', 7, 6);
    await before.close();

    const after = await openTestDatabase({ dir });
    try {
      const repo2 = new E2eeRepo(after.db);
      await repo2.prefillToDeviceCache();
      const reads = watchReads(after.db);
      // The quiet device: both queues known empty, nothing read.
      assert.deepEqual(await repo2.inbox('@c:x', 'C', 10, 100), []);
      assert.equal(await repo2.partialDelivery('@c:x', 'C', 10), undefined);
      await repo2.ackInbox('@c:x', 'C', 10, 10);
      assert.deepEqual(reads.spaces, []);
      reads.stop();
      // Queued before the restart: still delivered, and the cut-short record still found.
      assert.deepEqual((await repo2.inbox('@a:x', 'A', 10, 100)).map((e) => e.event), [event(1)]);
      assert.equal(await repo2.partialDelivery('@b:x', 'B', 7), 6);
      // Queued after the scan, for a device the scan found empty.
      await repo2.writeToDevice(txn('2'), 11, [{ userId: '@c:x', deviceId: 'C', event: event(2) }]);
      assert.deepEqual((await repo2.inbox('@c:x', 'C', 11, 100)).map((e) => e.event), [event(2)]);
    } finally {
      await after.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

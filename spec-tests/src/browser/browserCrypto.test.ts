// The client module (e2ee/src/client/cryptoClient.ts) in a real browser: Chromium, driven by
// playwright-core, runs it with its Rust crypto store in IndexedDB against a real Parley.
// Alice uses the page, Bob a Node client; messages decrypt both ways, and after a page
// reload the same device (same keys, nothing re-uploaded) still decrypts a new message
// from what the store kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { decryptedBody, E2E_WAIT_MS, startedCryptoClient, textMessage } from '../harness/e2ee.js';
import { sdk } from '../harness/client.js';
import { testFailed, useServer } from '../harness/hooks.js';
import { expectOk, rawRequest, registerUser, type HasBaseUrl, type Json, type User } from '../harness/http.js';
import { uniq, waitUntil } from '../harness/util.js';
import { CHROMIUM_MISSING, findChromium } from './chromium.js';
import type { PageApi, PageSession } from './page/main.js';
import { servePage } from './pageServer.js';

type WithApi = { parley: PageApi };

async function openPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as Partial<WithApi>).parley !== undefined, undefined, { timeout: E2E_WAIT_MS });
}

/** The device's keys as the server hands them to other users, once uploaded. */
async function serverDeviceKeys(server: HasBaseUrl, asker: User, owner: User): Promise<Json> {
  return waitUntil(
    async () => {
      const q = expectOk(
        await rawRequest(server, 'POST', '/_matrix/client/v3/keys/query', { token: asker.accessToken, body: { device_keys: { [owner.userId]: [owner.deviceId] } } }),
        'keys/query',
      );
      return q.device_keys?.[owner.userId]?.[owner.deviceId] as Json | undefined;
    },
    E2E_WAIT_MS,
    `${owner.userId}'s device keys on the server`,
  );
}

describe('E2EE in the browser (Chromium, crypto store in IndexedDB)', () => {
  const ctx = useServer();

  it('should decrypt both ways in a browser and, after a page reload, be the same device that still decrypts new messages', async (t) => {
    const executablePath = findChromium();
    if (executablePath === undefined) assert.fail(CHROMIUM_MISSING);
    const pageServer = await servePage();
    t.after(() => pageServer.close());
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; containers often have a tiny /dev/shm.
    const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const pageLog: string[] = [];
    page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
    t.after(() => {
      if (testFailed(t)) console.error(`----- browser console -----\n${pageLog.slice(-200).join('\n')}\n----- end browser console -----`);
    });
    // Every /keys/upload that carries device keys, by page load.
    let load = 1;
    const deviceKeyUploads: number[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().includes('/keys/upload') && (req.postData() ?? '').includes('"device_keys"')) deviceKeyUploads.push(load);
    });

    const alice = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    const bob = await startedCryptoClient(t, ctx.server, bobUser);
    const session: PageSession = {
      baseUrl: ctx.server.baseUrl,
      userId: alice.userId,
      deviceId: alice.deviceId,
      accessToken: alice.accessToken,
      storageKey: [...randomBytes(32)],
    };

    await openPage(page, pageServer.url);
    const first = await page.evaluate((s) => (globalThis as unknown as WithApi).parley.start(s), session);
    assert.equal(first.deviceId, alice.deviceId);
    const keysBefore = await serverDeviceKeys(ctx.server, bobUser, alice);
    assert.equal(keysBefore.keys[`ed25519:${alice.deviceId}`], first.ed25519, 'the browser uploaded its own identity key');

    const { room_id: roomId } = await bob.client.createRoom({
      preset: sdk.Preset.PrivateChat,
      invite: [alice.userId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await page.evaluate((r) => (globalThis as unknown as WithApi).parley.join(r), roomId);
    await bob.waitForRoom(roomId, 'Alice (browser) to join', (r) => r.getMember(alice.userId)?.membership === 'join', E2E_WAIT_MS);

    // Bob → browser.
    const toBrowser = `to-browser-${uniq()}`;
    await bob.client.sendMessage(roomId, textMessage(toBrowser));
    const seen = await page.evaluate(([r, b, ms]) => (globalThis as unknown as WithApi).parley.waitForBody(r, b, ms), [roomId, toBrowser, E2E_WAIT_MS] as const);
    assert.deepEqual(seen, { wireType: 'm.room.encrypted', sender: bobUser.userId });

    // Browser → Bob.
    const fromBrowser = `from-browser-${uniq()}`;
    await page.evaluate(([r, b]) => (globalThis as unknown as WithApi).parley.send(r, b), [roomId, fromBrowser] as const);
    const got = await bob.waitForEvent(roomId, 'Bob to decrypt the browser’s message', (e) => decryptedBody(e) === fromBrowser, E2E_WAIT_MS);
    assert.equal(got.getWireType(), 'm.room.encrypted');
    assert.deepEqual(deviceKeyUploads, [1], 'the first page load uploaded its device keys once');

    // Reload: the page starts from scratch; only IndexedDB remains.
    load = 2;
    await page.reload();
    await openPage(page, pageServer.url);
    const second = await page.evaluate((s) => (globalThis as unknown as WithApi).parley.start(s), session);
    assert.deepEqual(second, first, 'the same device with the same identity keys');

    // Bob's next message uses the Megolm session he already shared: only the stored inbound session can decrypt it.
    const afterReload = `after-reload-${uniq()}`;
    await bob.client.sendMessage(roomId, textMessage(afterReload));
    const seenAfter = await page.evaluate(([r, b, ms]) => (globalThis as unknown as WithApi).parley.waitForBody(r, b, ms), [roomId, afterReload, E2E_WAIT_MS] as const);
    assert.deepEqual(seenAfter, { wireType: 'm.room.encrypted', sender: bobUser.userId });
    assert.deepEqual(deviceKeyUploads, [1], 'no device keys were uploaded after the reload');
    assert.deepEqual(await serverDeviceKeys(ctx.server, bobUser, alice), keysBefore, 'the server still has the same device keys');
    await page.evaluate(() => (globalThis as unknown as WithApi).parley.stop());
  });
});

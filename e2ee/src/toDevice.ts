// Send-to-device messaging: messages are queued per device in stream order and
// delivered by /sync until the client acknowledges them by syncing from a later token.
// Spec: modules/send_to_device.md "Server behaviour"; to_device.yaml.
//
// A message is deleted only once the client has shown it received it: syncing with a
// since token is the acknowledgement of the response that carried that token. When a
// response could not carry every queued message (over the limit), it is recorded how
// far it got, so the acknowledgement does not delete what was never delivered, and
// the stream is moved on so that the next response gets a token of its own.
import { createHash } from 'node:crypto';
import { isValidUserId, serverNameOf } from '@parley/federation/core/ids';
import { invalidParam } from './errors.js';
import type { KeyedLock } from './keyedLock.js';
import type { ChangeNotifier, DeviceDirectory, E2eeStore, OutgoingToDevicePort, StreamPositions } from './ports.js';
import type { JsonMap, ToDeviceEvent } from './types.js';

/** Spec: "100 messages is recommended as a reasonable limit" per /sync response. */
export const TO_DEVICE_SYNC_LIMIT = 100;

export interface ToDeviceDeps {
  store: E2eeStore;
  devices: DeviceDirectory;
  stream: StreamPositions;
  notifier: ChangeNotifier;
  outgoing: OutgoingToDevicePort;
  lock: KeyedLock;
  serverName: string;
}

export class ToDeviceService {
  constructor(private readonly d: ToDeviceDeps) {}

  /**
   * PUT /sendToDevice/{eventType}/{txnId}. Idempotent per sending device and txnId.
   * Messages for unknown local users or devices are dropped, as Synapse does: the
   * sender cannot tell them from devices deleted a moment later.
   */
  async send(sender: string, senderDevice: string, type: string, txnId: string, messages: Record<string, Record<string, JsonMap>>): Promise<void> {
    for (const userId of Object.keys(messages)) {
      if (!isValidUserId(userId)) throw invalidParam(`Invalid user ID ${userId}`);
    }
    await this.d.lock.run(`${sender}\u0000${senderDevice}`, async () => {
      if (await this.d.store.hasToDeviceTxn(sender, senderDevice, txnId)) return;
      const local: Array<{ userId: string; deviceId: string; event: ToDeviceEvent }> = [];
      const remote = new Map<string, Record<string, Record<string, JsonMap>>>();
      for (const [userId, byDevice] of Object.entries(messages)) {
        const server = serverNameOf(userId)!;
        if (server !== this.d.serverName) {
          (remote.get(server) ?? remote.set(server, {}).get(server)!)[userId] = byDevice;
          continue;
        }
        const known = (await this.d.devices.devices(userId)).map((dev) => dev.deviceId);
        const targets = new Map<string, JsonMap>();
        for (const [deviceId, content] of Object.entries(byDevice)) {
          if (deviceId === '*') for (const id of known) targets.set(id, content);
          else if (known.includes(deviceId)) targets.set(deviceId, content);
        }
        for (const [deviceId, content] of targets) local.push({ userId, deviceId, event: { type, sender, content } });
      }
      // Remote delivery goes through federation (server-server-api "Send-to-device messaging"),
      // handed over before the transaction is recorded: a retry after a failure here must send
      // again, and the message_id (derived from the transaction) lets the receiver drop a repeat.
      const messageId = remoteMessageId(sender, senderDevice, txnId);
      for (const [server, byUser] of remote) {
        await this.d.outgoing.send(server, { sender, type, message_id: messageId, messages: byUser });
      }
      const recipients = [...new Set(local.map((m) => m.userId))];
      await this.d.stream.run(async (pos) => {
        await this.d.store.writeToDevice({ sender, senderDevice, txnId }, pos, local);
        if (recipients.length > 0) this.d.notifier.notify(pos, { users: recipients });
      });
    });
  }

  /**
   * An m.direct_to_device EDU from `origin` (server-server-api.md "Send-to-device messaging"):
   * queue the messages for our users' devices ('*' = all of them). Idempotent per origin and
   * message_id, as a retried transaction may carry the EDU again. Messages for other servers'
   * users, unknown users and unknown devices are dropped (Synapse does the same).
   */
  async receiveRemote(origin: string, sender: string, type: string, messageId: string, messages: Record<string, Record<string, JsonMap>>): Promise<void> {
    // The txn record is keyed by the origin server (no local user ID looks like a server name).
    const txn = { sender: origin, senderDevice: 'm.direct_to_device', txnId: messageId };
    await this.d.lock.run(`${origin}\u0000federation`, async () => {
      if (await this.d.store.hasToDeviceTxn(txn.sender, txn.senderDevice, txn.txnId)) return;
      const local: Array<{ userId: string; deviceId: string; event: ToDeviceEvent }> = [];
      for (const [userId, byDevice] of Object.entries(messages)) {
        if (!isValidUserId(userId) || serverNameOf(userId) !== this.d.serverName) continue;
        const known = (await this.d.devices.devices(userId)).map((dev) => dev.deviceId);
        for (const [deviceId, content] of Object.entries(byDevice)) {
          const targets = deviceId === '*' ? known : known.includes(deviceId) ? [deviceId] : [];
          for (const id of targets) local.push({ userId, deviceId: id, event: { type, sender, content } });
        }
      }
      const recipients = [...new Set(local.map((m) => m.userId))];
      await this.d.stream.run(async (pos) => {
        await this.d.store.writeToDevice(txn, pos, local);
        if (recipients.length > 0) this.d.notifier.notify(pos, { users: recipients });
      });
    });
  }

  /**
   * The device's queued messages for a /sync answering up to `upTo`, oldest first.
   * `since` (the request's token) acknowledges what the response carrying it delivered.
   */
  async forSync(userId: string, deviceId: string, since: number | undefined, upTo: number, limit = TO_DEVICE_SYNC_LIMIT): Promise<ToDeviceEvent[]> {
    if (since !== undefined) {
      const cutShort = await this.ack(userId, deviceId, since);
      // A cut-short response carried `since` as its next_batch. Another response with the
      // same token could not be told apart from it, so wait for the stream to move on
      // (the tick below moves it and wakes this user's syncs).
      if (cutShort && upTo <= since) return [];
    }
    const entries = await this.d.store.inbox(userId, deviceId, upTo, limit + 1);
    if (entries.length <= limit) return entries.map((e) => e.event);
    const delivered = entries.slice(0, limit);
    // Durable before the response leaves: acknowledging `upTo` must delete only this far.
    await this.d.store.writePartialDelivery(userId, deviceId, upTo, delivered[delivered.length - 1].pos);
    // Take a position so that the next response has a later token than this one.
    await this.d.stream.run(async (pos) => this.d.notifier.notify(pos, { users: [userId] }));
    return delivered.map((e) => e.event);
  }

  /**
   * The client synced from `token`: delete what the response with that next_batch
   * delivered. Returns whether that response was cut short.
   */
  async ack(userId: string, deviceId: string, token: number): Promise<boolean> {
    const partial = await this.d.store.partialDelivery(userId, deviceId, token);
    await this.d.store.ackInbox(userId, deviceId, partial ?? token, token);
    return partial !== undefined;
  }
}

/** The same for every retry of one transaction; 32 characters, the EDU's limit (server-server-api m.direct_to_device). */
function remoteMessageId(sender: string, senderDevice: string, txnId: string): string {
  return createHash('sha256').update(`${sender}\u0000${senderDevice}\u0000${txnId}`).digest('base64url').slice(0, 32);
}

// Sends what local users do to the other servers of their rooms: new events as PDUs,
// typing, receipts and to-device messages as EDUs. Everything goes through the persisted
// per-destination queues, so a local send never waits on a remote server.
// Spec: server-server-api.md "Transactions", "PDUs", "EDUs", "Typing Notifications",
// "Receipts", "Send-to-device messaging".
import { serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { Edu } from '@parley/federation/ports';
import type { RoomOutput } from '../../events/outputs.js';
import type { RoomReader, StoredEvent } from '../../rooms/types.js';

export interface SenderDeps {
  serverName: string;
  /** The room's servers, kept in memory from membership writes (no member-list read per event). */
  reader: Pick<RoomReader, 'joinedServers'>;
  queues: {
    enqueuePdu(destinations: readonly string[], eventId: string): Promise<void>;
    enqueueEdu(destinations: readonly string[], edu: Edu): Promise<void>;
  };
  onError: (err: unknown, what: string) => void;
  /** Told when each event starts and finishes its way into the queues (restart catch-up). */
  watermark?: { begin(stream: number): void; end(stream: number): void };
  /**
   * servers_in_room of a room joined with partial state (MSC3706): its member list is still
   * incomplete, so these are added to the servers known from it (as Synapse does).
   */
  partialStateServers?: (roomId: string) => readonly string[];
}

export class FederationSender {
  /** Per room: the enqueue in progress, so PDUs of a room are queued in the order they were written. */
  private readonly roomTails = new Map<string, Promise<void>>();

  constructor(private readonly deps: SenderDeps) {}

  /** RoomOutputs listener. */
  onRoomOutput = (out: RoomOutput): void => {
    if (out.kind !== 'new_event') return;
    const e = out.event;
    const w = this.deps.watermark;
    if (e.stream > 0) w?.begin(e.stream);
    void this.enqueueEvent(e).finally(() => {
      if (e.stream > 0) w?.end(e.stream);
    });
  };

  /** Queue a stored event for the room's other servers (in room order), if it is ours to send. */
  enqueueEvent(e: StoredEvent): Promise<void> {
    // Events of remote senders are sent by their own server; outliers are not in any timeline.
    if (e.outlier || serverNameOf(e.pdu.sender) !== this.deps.serverName) return Promise.resolve();
    return this.inRoomOrder(e.roomId, async () => {
      const destinations = await this.destinationsFor(e);
      if (destinations.length > 0) await this.deps.queues.enqueuePdu(destinations, e.eventId);
    });
  }

  /** Resolves once every event handed over so far is queued (or failed). */
  async idle(): Promise<void> {
    while (this.roomTails.size > 0) await Promise.all([...this.roomTails.values()]);
  }

  /** Servers with a joined member, other than us. */
  async joinedServers(roomId: string): Promise<string[]> {
    const out = new Set(await this.deps.reader.joinedServers(roomId));
    out.delete(this.deps.serverName);
    for (const s of this.deps.partialStateServers?.(roomId) ?? []) if (s !== this.deps.serverName) out.add(s);
    return [...out];
  }

  /** m.typing EDU to the room's other servers. */
  typingChanged(c: { roomId: string; userId: string; typing: boolean }): void {
    // Remote users' typing came from their server (inbound EDU): never echo it.
    if (serverNameOf(c.userId) !== this.deps.serverName) return;
    this.sendEdu(c.roomId, { edu_type: 'm.typing', content: { room_id: c.roomId, user_id: c.userId, typing: c.typing } }, 'typing');
  }

  /** m.receipt EDU to the room's other servers. */
  receiptSet(r: { roomId: string; userId: string; type: string; eventId: string; thread: string; ts: number }): void {
    if (serverNameOf(r.userId) !== this.deps.serverName) return;
    const data: JsonObject = { ts: r.ts };
    if (r.thread !== '') data.thread_id = r.thread;
    const content = { [r.roomId]: { [r.type]: { [r.userId]: { event_ids: [r.eventId], data } } } };
    this.sendEdu(r.roomId, { edu_type: 'm.receipt', content }, 'receipt');
  }

  /** e2ee OutgoingToDevicePort: to-device messages for users of one remote server. */
  async sendToDevice(destination: string, content: { sender: string; type: string; message_id: string; messages: Record<string, unknown> }): Promise<void> {
    await this.deps.queues.enqueueEdu([destination], { edu_type: 'm.direct_to_device', content: content as unknown as JsonObject });
  }

  private sendEdu(roomId: string, edu: Edu, what: string): void {
    this.joinedServers(roomId)
      .then((servers) => (servers.length > 0 ? this.deps.queues.enqueueEdu(servers, edu) : undefined))
      .catch((err: unknown) => this.deps.onError(err, `queueing ${what} for ${roomId}`));
  }

  /**
   * Every server with a joined member, plus the target's server of a membership change
   * (a kicked or banned user's server must hear of it even though it has no one left).
   */
  private async destinationsFor(e: StoredEvent): Promise<string[]> {
    const servers = new Set(await this.joinedServers(e.roomId));
    if (e.pdu.type === 'm.room.member' && e.pdu.state_key !== undefined && e.pdu.content.membership !== 'invite') {
      const target = serverNameOf(e.pdu.state_key);
      if (target !== undefined && target !== this.deps.serverName) servers.add(target);
    }
    return [...servers];
  }

  private inRoomOrder(roomId: string, work: () => Promise<void>): Promise<void> {
    const prev = this.roomTails.get(roomId) ?? Promise.resolve();
    const next = prev.then(work).catch((err: unknown) => this.deps.onError(err, `queueing an event of ${roomId}`));
    this.roomTails.set(roomId, next);
    return next.then(() => {
      if (this.roomTails.get(roomId) === next) this.roomTails.delete(roomId);
    });
  }
}

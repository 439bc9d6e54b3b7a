// Typing notifications, held in memory only (they are worthless after a restart).
// Each change of a room's set of typers takes a stream position so /sync can tell
// "changed since your token"; one timer serves every expiry.
// Spec: client-server-api/modules/typing_notifications.md; data/api/client-server/typing.yaml.
import { forbidden } from '../http/errors.js';
import type { RoomReader } from '../rooms/types.js';
import type { ChangeKeys } from './notifier.js';
import type { Clock, StreamPositions } from './ports.js';

/** Longest a single request may mark a user as typing (clients refresh every ~20-30 s). */
export const MAX_TYPING_TIMEOUT_MS = 30_000;

export interface TypingDeps {
  reader: Pick<RoomReader, 'membership'>;
  stream: Pick<StreamPositions, 'next' | 'finish'>;
  notifier: { notify(pos: number, changed: ChangeKeys): void };
  now?: Clock;
  maxTimeoutMs?: number;
}

interface RoomTyping {
  /** user ID → expiry time (ms). */
  users: Map<string, number>;
  /** Stream position of the last change of the set. */
  stream: number;
}

/** A local user's typing request, as federation forwards it (m.typing EDU). */
export interface TypingChange {
  roomId: string;
  userId: string;
  typing: boolean;
}

export class TypingService {
  private readonly rooms = new Map<string, RoomTyping>();
  private readonly listeners: Array<(change: TypingChange) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly now: Clock;

  constructor(private readonly deps: TypingDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** PUT /rooms/{roomId}/typing/{userId} on behalf of `requester`. */
  async setTyping(requester: string, userId: string, roomId: string, typing: boolean, timeoutMs: number | undefined): Promise<void> {
    if (requester !== userId) throw forbidden('Cannot set typing for another user');
    const member = await this.deps.reader.membership(roomId, userId);
    if (member?.membership !== 'join') throw forbidden('You are not joined to this room');
    if (typing) this.start(roomId, userId, Math.min(Math.max(timeoutMs ?? MAX_TYPING_TIMEOUT_MS, 0), this.deps.maxTimeoutMs ?? MAX_TYPING_TIMEOUT_MS));
    else this.stop(roomId, userId);
    for (const l of this.listeners) l({ roomId, userId, typing });
  }

  /** Hear every typing request of a local user (refreshes included), e.g. to tell other servers. */
  onLocalChange(listener: (change: TypingChange) => void): void {
    this.listeners.push(listener);
  }

  /** The current typers of a room and the position of the last change, if it ever had any. */
  typing(roomId: string): { userIds: string[]; stream: number } | undefined {
    const room = this.rooms.get(roomId);
    if (!room) return undefined;
    const t = this.now();
    return { userIds: [...room.users].filter(([, exp]) => exp > t).map(([u]) => u), stream: room.stream };
  }

  /** Stop the expiry timer (shutdown). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(roomId: string, userId: string, timeoutMs: number): void {
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = { users: new Map(), stream: 0 }));
    const wasTyping = room.users.has(userId);
    room.users.set(userId, this.now() + timeoutMs);
    // Extending a timeout is not a change anyone needs to hear about.
    if (!wasTyping) this.changed(roomId, room);
    this.schedule();
  }

  private stop(roomId: string, userId: string): void {
    const room = this.rooms.get(roomId);
    if (!room?.users.delete(userId)) return;
    this.changed(roomId, room);
  }

  private changed(roomId: string, room: RoomTyping): void {
    const pos = this.deps.stream.next();
    room.stream = pos;
    this.deps.notifier.notify(pos, { rooms: [roomId] });
    this.deps.stream.finish(pos);
  }

  private schedule(): void {
    let next = Infinity;
    for (const room of this.rooms.values()) for (const exp of room.users.values()) if (exp < next) next = exp;
    if (next === Infinity || (this.timer && next >= this.timerAt)) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.expire(), Math.max(0, next - this.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const t = this.now();
    for (const [roomId, room] of this.rooms) {
      let removed = false;
      for (const [u, exp] of room.users) {
        if (exp <= t) {
          room.users.delete(u);
          removed = true;
        }
      }
      if (removed) this.changed(roomId, room);
    }
    this.schedule();
  }
}

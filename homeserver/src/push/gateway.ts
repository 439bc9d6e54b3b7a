// The request a push gateway receives, and sending it. Spec: push-gateway-api.md
// "Homeserver behaviour" (`event_id_only` needs only event_id, room_id, counts, devices);
// data/api/push-gateway/push_notifier.yaml (POST /_matrix/push/v1/notify, `rejected`).
import type { PusherRecord } from '../storage/pushersRepo.js';

const TIMEOUT_MS = 20_000;

export interface NotifyEvent {
  eventId: string;
  roomId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  stateKey?: string;
}

export interface NotifyExtras {
  /** Rooms with unread notifications (Synapse's default badge). */
  unread: number;
  tweaks: Record<string, unknown>;
  senderDisplayName?: string;
  roomName?: string;
  roomAlias?: string;
}

/** One device entry: the pusher's data minus its URL (pusher.yaml "data"). */
export function deviceOf(pusher: PusherRecord, tweaks: Record<string, unknown>): Record<string, unknown> {
  const { url: _url, ...data } = pusher.data;
  return { app_id: pusher.app_id, pushkey: pusher.pushkey, pushkey_ts: Math.floor(pusher.ts / 1000), data, tweaks };
}

/** Counts with zero values left out, as push_notifier.yaml asks. */
const countsOf = (unread: number) => (unread > 0 ? { unread } : {});

export function eventNotification(pusher: PusherRecord, userId: string, ev: NotifyEvent, x: NotifyExtras): Record<string, unknown> {
  // Like Synapse: "high" for what would make a sound or highlight, and for encrypted events
  // (whose importance only the client can tell).
  const prio = ev.type === 'm.room.encrypted' || x.tweaks.highlight || x.tweaks.sound ? 'high' : 'low';
  const n: Record<string, unknown> = {
    event_id: ev.eventId,
    room_id: ev.roomId,
    prio,
    counts: countsOf(x.unread),
    devices: [deviceOf(pusher, x.tweaks)],
  };
  if (pusher.data.format !== 'event_id_only') {
    n.type = ev.type;
    n.sender = ev.sender;
    n.content = ev.content;
    if (x.senderDisplayName) n.sender_display_name = x.senderDisplayName;
    if (x.roomName) n.room_name = x.roomName;
    if (x.roomAlias) n.room_alias = x.roomAlias;
    if (ev.type === 'm.room.member') n.user_is_target = ev.stateKey === userId;
  }
  return { notification: n };
}

/** A counts-only notification (the badge changed because the user read something). */
export function badgeNotification(pusher: PusherRecord, unread: number): Record<string, unknown> {
  return { notification: { counts: countsOf(unread), devices: [deviceOf(pusher, {})] } };
}

export type NotifyOutcome = { ok: true; rejected: string[] } | { ok: false; reason: string };

export async function postNotify(
  url: string,
  body: Record<string, unknown>,
  opts: { fetch?: typeof fetch; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<NotifyOutcome> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    const res = await (opts.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    if (!res.ok) return { ok: false, reason: `HTTP ${res.status}` };
    let rejected: string[] = [];
    try {
      const json = JSON.parse(text) as { rejected?: unknown };
      if (Array.isArray(json.rejected)) rejected = json.rejected.filter((k): k is string => typeof k === 'string');
    } catch {
      // A 2xx without JSON still delivered the notification.
    }
    return { ok: true, rejected };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

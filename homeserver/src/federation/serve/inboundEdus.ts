// The EDUs besides typing and receipts (EduSinks.other): to-device messages, device-list
// and cross-signing key updates, presence. Each is about users of the origin server only;
// anything else, or malformed, is dropped (EDUs are best-effort).
// Spec: server-server-api.md "Send-to-device messaging", "Device Management",
// "End-to-End Encryption", "Presence".
import { isValidUserId, serverNameOf } from '@parley/federation/core/ids';
import type { Edu } from '@parley/federation/ports';
import type { RemoteDeviceLists } from './remoteDeviceLists.js';

type PresenceState = 'online' | 'unavailable' | 'offline';

export interface InboundEduDeps {
  /** e2ee ToDeviceService.receiveRemote. */
  toDevice?: {
    receiveRemote(origin: string, sender: string, type: string, messageId: string, messages: Record<string, Record<string, Record<string, unknown>>>): Promise<void>;
  };
  deviceLists?: Pick<RemoteDeviceLists, 'onDeviceListUpdate' | 'onSigningKeyUpdate'>;
  /** PresenceService.setRemote (absent: presence is off, m.presence is ignored). */
  presence?: {
    setRemote(userId: string, u: { state: PresenceState; statusMsg?: string; lastActiveAgo: number; currentlyActive: boolean }): Promise<void>;
  };
  /** Whether a local user shares a room with the user (presence is kept only for those). */
  sharesRoomWithLocal(userId: string): Promise<boolean>;
  onWarning?: (msg: string, extra: Record<string, unknown>) => void;
}

/** m.direct_to_device message_id: "maximum length 32 codepoints". */
const MAX_MESSAGE_ID = 32;
const PRESENCE_STATES = new Set<string>(['online', 'unavailable', 'offline']);

export function inboundEduHandler(d: InboundEduDeps): (origin: string, edu: Edu) => Promise<void> {
  return async (origin, edu) => {
    const c = edu.content as Record<string, unknown>;
    switch (edu.edu_type) {
      case 'm.direct_to_device': {
        const { sender, type, message_id: messageId, messages } = c;
        if (typeof sender !== 'string' || !isValidUserId(sender) || serverNameOf(sender) !== origin) return;
        if (typeof type !== 'string' || typeof messageId !== 'string' || [...messageId].length > MAX_MESSAGE_ID || !isObject(messages)) return;
        const clean: Record<string, Record<string, Record<string, unknown>>> = {};
        for (const [userId, byDevice] of Object.entries(messages)) {
          if (!isObject(byDevice)) continue;
          const devices: Record<string, Record<string, unknown>> = {};
          for (const [deviceId, content] of Object.entries(byDevice)) if (isObject(content)) devices[deviceId] = content;
          clean[userId] = devices;
        }
        await d.toDevice?.receiveRemote(origin, sender, type, messageId, clean);
        return;
      }
      case 'm.device_list_update':
        await d.deviceLists?.onDeviceListUpdate(origin, c);
        return;
      case 'm.signing_key_update':
        await d.deviceLists?.onSigningKeyUpdate(origin, c);
        return;
      case 'm.presence': {
        if (!d.presence || !Array.isArray(c.push)) return;
        for (const p of c.push) {
          if (!isObject(p) || typeof p.user_id !== 'string' || !isValidUserId(p.user_id) || serverNameOf(p.user_id) !== origin) continue;
          if (typeof p.presence !== 'string' || !PRESENCE_STATES.has(p.presence)) continue;
          if (!(await d.sharesRoomWithLocal(p.user_id))) continue;
          try {
            await d.presence.setRemote(p.user_id, {
              state: p.presence as PresenceState,
              ...(typeof p.status_msg === 'string' ? { statusMsg: p.status_msg } : {}),
              lastActiveAgo: typeof p.last_active_ago === 'number' ? p.last_active_ago : 0,
              currentlyActive: p.currently_active === true,
            });
          } catch (err) {
            d.onWarning?.('presence update dropped', { origin, userId: p.user_id, err: String(err) });
          }
        }
        return;
      }
      default:
        return;
    }
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

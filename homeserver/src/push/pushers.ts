// A user's pushers: set, replaced, deleted (kind null) through POST /pushers/set and
// listed by GET /pushers. Spec: client-server-api/modules/push.md "Client behaviour";
// data/api/client-server/pusher.yaml.
import { invalidParam, missingParam } from '../http/errors.js';
import { Lru } from '../storage/lru.js';
import type { PusherRecord, PushersRepo } from '../storage/pushersRepo.js';

const NOTIFY_PATH = '/_matrix/push/v1/notify';

export interface SetPusherBody {
  pushkey?: string;
  kind?: string | null;
  app_id?: string;
  app_display_name?: string;
  device_display_name?: string;
  profile_tag?: string;
  lang?: string;
  data?: Record<string, unknown>;
  append?: boolean;
}

export interface PusherServiceDeps {
  repo: PushersRepo;
  /** Where a new pusher starts: the user's newest notification (older ones are not pushed). */
  latestNotification(userId: string): Promise<number>;
  /** Also accept plain-HTTP gateway URLs off the loopback interface (trusted internal gateways). */
  allowHttp?: boolean;
  now?: () => number;
  /** A pusher appeared or changed: its deliveries may start. */
  onChange?: (userId: string) => void;
}

export class PusherService {
  private readonly cache = new Lru<string, PusherRecord[]>(10_000);
  private edits = 0;
  /**
   * Users who may have pushers (loaded at start, grown by every set): a notification for
   * anyone else, most users, needs no read. Undefined until loaded.
   */
  private mayHave: Set<string> | undefined;

  constructor(private readonly deps: PusherServiceDeps) {}

  /** At start, with every stored pusher. */
  loaded(all: ReadonlyArray<{ userId: string }>): void {
    this.mayHave = new Set(all.map((a) => a.userId));
  }

  /** GET /pushers: the pushers as they were set. */
  async list(userId: string): Promise<Array<Record<string, unknown>>> {
    return (await this.pushersOf(userId)).map(({ ts: _ts, deviceId: _d, ...p }) => p);
  }

  /** False only for a user known to have no pusher (no read, no promise: most notified users). */
  mayHavePushers(userId: string): boolean {
    return !this.mayHave || this.mayHave.has(userId);
  }

  async pushersOf(userId: string): Promise<PusherRecord[]> {
    if (this.mayHave && !this.mayHave.has(userId)) return [];
    const hit = this.cache.get(userId);
    if (hit) return hit;
    const edits = this.edits;
    const list = await this.deps.repo.list(userId);
    if (edits === this.edits) this.cache.set(userId, list);
    return list;
  }

  /** POST /pushers/set. */
  async set(requester: { userId: string; deviceId: string }, body: SetPusherBody): Promise<void> {
    const { userId } = requester;
    const missing = (['kind', 'app_id', 'pushkey'] as const).filter((k) => body[k] === undefined);
    if (missing.length) throw missingParam(`Missing parameters: ${missing.join(', ')}`);
    const appId = body.app_id!;
    const pushkey = body.pushkey!;
    // pusher.yaml: app_id at most 64 characters, pushkey at most 512 bytes.
    if (appId.length > 64) throw invalidParam('app_id must be at most 64 characters');
    if (Buffer.byteLength(pushkey, 'utf8') > 512) throw invalidParam('pushkey must be at most 512 bytes');
    if (body.kind === null) {
      await this.remove(userId, appId, pushkey);
      return;
    }
    const required = (['app_display_name', 'device_display_name', 'lang', 'data'] as const).filter((k) => body[k] === undefined);
    if (required.length) throw missingParam(`Missing parameters: ${required.join(', ')}`);
    if (body.kind !== 'http') throw invalidParam(`Unsupported pusher kind: ${body.kind}`);
    const data = body.data!;
    if (typeof data.url !== 'string') throw missingParam("data.url is required for 'http' pushers");
    this.checkUrl(data.url);

    const existing = await this.deps.repo.get(userId, appId, pushkey);
    const rec: PusherRecord = {
      kind: 'http',
      app_id: appId,
      pushkey,
      app_display_name: body.app_display_name!,
      device_display_name: body.device_display_name!,
      lang: body.lang!,
      data: data as PusherRecord['data'],
      ts: existing?.ts ?? (this.deps.now ?? Date.now)(),
      deviceId: requester.deviceId,
    };
    if (body.profile_tag !== undefined) rec.profile_tag = body.profile_tag;
    // append false (the default): this pushkey now belongs to this user only.
    const removeUsers = body.append === true ? [] : await this.deps.repo.otherUsers(appId, pushkey, userId);
    const sentFrom = existing ? undefined : await this.deps.latestNotification(userId);
    this.mayHave?.add(userId);
    await this.deps.repo.set(userId, rec, { removeUsers, sentFrom });
    this.invalidate(userId, ...removeUsers);
    this.deps.onChange?.(userId);
  }

  async remove(userId: string, appId: string, pushkey: string): Promise<void> {
    await this.deps.repo.remove(userId, appId, pushkey);
    this.invalidate(userId);
  }

  /** The device's pushers go with it (logout, device deletion), as in Synapse. */
  async removeForDevice(userId: string, deviceId: string): Promise<void> {
    for (const p of await this.deps.repo.list(userId)) if (p.deviceId === deviceId) await this.remove(userId, p.app_id, p.pushkey);
  }

  async removeAll(userId: string): Promise<void> {
    for (const p of await this.deps.repo.list(userId)) await this.remove(userId, p.app_id, p.pushkey);
  }

  private invalidate(...userIds: string[]): void {
    this.edits++;
    for (const u of userIds) this.cache.delete(u);
  }

  /** pusher.yaml: an HTTPS URL with the path /_matrix/push/v1/notify (plain HTTP only on loopback). */
  private checkUrl(raw: string): void {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidParam('data.url must be an absolute URL');
    }
    const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || this.deps.allowHttp))) {
      throw invalidParam('data.url must be an https URL');
    }
    if (url.pathname !== NOTIFY_PATH) throw invalidParam(`data.url must have the path ${NOTIFY_PATH}`);
  }
}

// Room tags, kept as m.tag room account data. Spec: client-server-api/modules/tags.md;
// data/api/client-server/tags.yaml.
import { forbidden, invalidParam } from '../http/errors.js';
import type { AccountDataService } from '../sync/accountData.js';

export const TAG_TYPE = 'm.tag';
/** Synapse's limit on a tag name. */
const MAX_TAG_BYTES = 255;

type Tags = Record<string, Record<string, unknown>>;

export class TagService {
  constructor(private readonly accountData: Pick<AccountDataService, 'get' | 'set'>) {}

  async get(requester: string, userId: string, roomId: string): Promise<{ tags: Tags }> {
    if (requester !== userId) throw forbidden('Cannot get tags for other users');
    return { tags: await this.tags(userId, roomId) };
  }

  async put(requester: string, userId: string, roomId: string, tag: string, content: Record<string, unknown>): Promise<void> {
    if (requester !== userId) throw forbidden('Cannot add tags for other users');
    if (tag === '' || Buffer.byteLength(tag, 'utf8') > MAX_TAG_BYTES) throw invalidParam(`Tag names must be 1 to ${MAX_TAG_BYTES} bytes`);
    const tags = await this.tags(userId, roomId);
    await this.accountData.set(userId, roomId, TAG_TYPE, { tags: { ...tags, [tag]: content } });
  }

  async delete(requester: string, userId: string, roomId: string, tag: string): Promise<void> {
    if (requester !== userId) throw forbidden('Cannot remove tags for other users');
    const tags = await this.tags(userId, roomId);
    // Deleting an absent tag is a no-op 200, as in Synapse.
    if (!Object.hasOwn(tags, tag)) return;
    const { [tag]: _gone, ...rest } = tags;
    await this.accountData.set(userId, roomId, TAG_TYPE, { tags: rest });
  }

  private async tags(userId: string, roomId: string): Promise<Tags> {
    const content = await this.accountData.get(userId, roomId, TAG_TYPE);
    const tags = content?.tags;
    return typeof tags === 'object' && tags !== null && !Array.isArray(tags) ? (tags as Tags) : {};
  }
}

// Profiles of other servers' users for GET /profile: asked of their server
// (query/profile), kept for a minute so a client rendering a member list does not
// cause a request per render. Spec: server-server-api.md "Querying for information"
// (query.yaml /query/profile); client-server-api "Profiles".
import { serverNameOf } from '@parley/federation/core/ids';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { RemoteProfilePort } from '../../users/ports.js';

type Profile = { displayname?: string; avatar_url?: string };

const TTL_MS = 60_000;
const MAX_ENTRIES = 5_000;

export class FederationProfiles implements RemoteProfilePort {
  private readonly cache = new Map<string, { at: number; profile: Profile | undefined }>();

  constructor(
    private readonly client: FederationRequester,
    private readonly clock: () => number = Date.now,
  ) {}

  async profile(userId: string): Promise<Profile | undefined> {
    const hit = this.cache.get(userId);
    if (hit && this.clock() - hit.at < TTL_MS) return hit.profile;
    const destination = serverNameOf(userId);
    if (destination === undefined) return undefined;
    const res = await this.client.request<Record<string, unknown>>({
      destination,
      method: 'GET',
      path: `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(userId)}`,
    });
    // Unreachable servers are not cached: the next request asks again.
    if (!res.ok && !(res.kind === 'http' && res.status === 404)) return undefined;
    const body = res.ok ? res.body : undefined;
    const profile: Profile | undefined = body
      ? {
          ...(typeof body.displayname === 'string' ? { displayname: body.displayname } : {}),
          ...(typeof body.avatar_url === 'string' ? { avatar_url: body.avatar_url } : {}),
        }
      : undefined;
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(userId, { at: this.clock(), profile });
    return profile;
  }
}

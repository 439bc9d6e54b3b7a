// Room aliases of other servers: GET /_matrix/federation/v1/query/directory.
// Spec: server-server-api.md "Querying for information" (query.yaml#/get_matrixfederationv1querydirectory).
import { serverNameOf } from '@parley/federation/core/ids';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import { asClientError } from './remoteFailure.js';

export interface RemoteDirectory {
  /** The room an alias of another server points at; undefined when that server does not know it. */
  resolve(alias: string): Promise<{ room_id: string; servers: string[] } | undefined>;
}

export class FederationDirectory implements RemoteDirectory {
  constructor(private readonly client: FederationRequester) {}

  async resolve(alias: string): Promise<{ room_id: string; servers: string[] } | undefined> {
    const server = serverNameOf(alias);
    if (server === undefined) return undefined;
    const res = await this.client.request<{ room_id?: unknown; servers?: unknown }>({
      destination: server,
      method: 'GET',
      path: `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent(alias)}`,
    });
    if (!res.ok) {
      if (res.kind === 'http' && res.status === 404) return undefined;
      throw asClientError(res, `Could not ask ${server} about ${alias}`);
    }
    const { room_id: roomId, servers } = res.body ?? {};
    if (typeof roomId !== 'string') return undefined;
    const list = Array.isArray(servers) ? servers.filter((s): s is string => typeof s === 'string') : [];
    return { room_id: roomId, servers: list.length > 0 ? list : [server] };
  }
}

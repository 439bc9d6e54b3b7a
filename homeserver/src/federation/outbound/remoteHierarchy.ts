// The space hierarchy of a room this server is not in, from a server that is:
// GET /_matrix/federation/v1/hierarchy/{roomId}, trying the candidate servers in turn.
// Answers are kept for a short while (the spec asks for caching; Synapse keeps them 5 min).
// Spec: server-server-api.md "Spaces" (space_hierarchy.yaml); client-server-api/modules/spaces.md.
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { RemoteHierarchy, RemoteSpace } from '../../messaging/hierarchy.js';

export interface RemoteHierarchyDeps {
  client: FederationRequester;
  serverName: string;
  /** How long an answer is reused (ms). */
  cacheMs?: number;
  clock?: () => number;
}

const DEFAULT_CACHE_MS = 5 * 60_000;
/** Servers asked per room at most, so one walk cannot fan out without bound. */
const MAX_SERVERS_PER_ROOM = 5;
const MAX_CACHED = 1000;

export class FederationHierarchy implements RemoteHierarchy {
  private readonly cache = new Map<string, { at: number; space: RemoteSpace }>();

  constructor(private readonly deps: RemoteHierarchyDeps) {}

  async fetch(roomId: string, via: string[], suggestedOnly: boolean): Promise<RemoteSpace | undefined> {
    const now = (this.deps.clock ?? Date.now)();
    const key = `${roomId}\u0000${suggestedOnly}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.at < (this.deps.cacheMs ?? DEFAULT_CACHE_MS)) return hit.space;
    const servers = [...new Set(via)].filter((s) => s !== this.deps.serverName).slice(0, MAX_SERVERS_PER_ROOM);
    for (const server of servers) {
      const res = await this.deps.client.request<unknown>({
        destination: server,
        method: 'GET',
        path: `/_matrix/federation/v1/hierarchy/${encodeURIComponent(roomId)}?suggested_only=${suggestedOnly}`,
      });
      if (!res.ok) continue;
      const space = parseSpace(res.body, roomId);
      if (!space) continue;
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { at: now, space });
      return space;
    }
    return undefined;
  }
}

/** A well-formed answer about the room asked for; entries without a room_id are dropped. */
function parseSpace(body: unknown, roomId: string): RemoteSpace | undefined {
  if (!isObject(body) || !isObject(body.room) || body.room.room_id !== roomId) return undefined;
  const children = Array.isArray(body.children) ? body.children.filter((c): c is Record<string, unknown> => isObject(c) && typeof c.room_id === 'string') : [];
  const inaccessible = Array.isArray(body.inaccessible_children) ? body.inaccessible_children.filter((c): c is string => typeof c === 'string') : [];
  return { room: body.room, children, inaccessibleChildren: inaccessible };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

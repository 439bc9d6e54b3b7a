// Another server's published room directory, for GET/POST /publicRooms?server=…:
// GET /_matrix/federation/v1/publicRooms for plain paging, POST when the client filters.
// A server that does not know the POST form is asked with GET and its page filtered here
// (as Synapse does). Spec: client-server-api list_public_rooms.yaml (`server`);
// server-server-api.md "Published Room Directory" (public_rooms.yaml).
import type { JsonObject } from '@parley/federation/core/types';
import type { FederationFailure, FederationRequester } from '@parley/federation/transport/federationClient';
import type { PublicRoomsChunk, PublicRoomsQuery, PublicRoomsResponse, RemotePublicRooms } from '../../directory/publicRooms.js';
import { MatrixError } from '../../http/errors.js';
import { asClientError } from './remoteFailure.js';

export class FederationPublicRooms implements RemotePublicRooms {
  constructor(private readonly client: FederationRequester) {}

  async query(server: string, q: PublicRoomsQuery): Promise<PublicRoomsResponse> {
    const filtered = q.filter?.generic_search_term !== undefined || q.filter?.room_types !== undefined;
    if (filtered || q.third_party_instance_id !== undefined || q.include_all_networks !== undefined) {
      const body: JsonObject = {};
      if (q.limit !== undefined) body.limit = q.limit;
      if (q.since !== undefined) body.since = q.since;
      if (q.filter !== undefined) body.filter = q.filter as JsonObject;
      if (q.include_all_networks !== undefined) body.include_all_networks = q.include_all_networks;
      if (q.third_party_instance_id !== undefined) body.third_party_instance_id = q.third_party_instance_id;
      const res = await this.client.request<unknown>({ destination: server, method: 'POST', path: '/_matrix/federation/v1/publicRooms', body });
      if (res.ok) return parseResponse(res.body, server);
      if (!unsupported(res)) throw asClientError(res, `Could not fetch the room directory of ${server}`);
      // An older server without the POST form: page with GET and filter the page here.
      return filterPage(await this.get(server, q), q);
    }
    return this.get(server, q);
  }

  private async get(server: string, q: PublicRoomsQuery): Promise<PublicRoomsResponse> {
    const params = new URLSearchParams();
    if (q.limit !== undefined) params.set('limit', String(q.limit));
    if (q.since !== undefined) params.set('since', q.since);
    if (q.include_all_networks !== undefined) params.set('include_all_networks', String(q.include_all_networks));
    if (q.third_party_instance_id !== undefined) params.set('third_party_instance_id', q.third_party_instance_id);
    const qs = params.toString();
    const res = await this.client.request<unknown>({ destination: server, method: 'GET', path: `/_matrix/federation/v1/publicRooms${qs ? `?${qs}` : ''}` });
    if (!res.ok) throw asClientError(res, `Could not fetch the room directory of ${server}`);
    return parseResponse(res.body, server);
  }
}

function unsupported(f: FederationFailure): boolean {
  return f.kind === 'http' && (f.status === 404 || f.status === 405 || (f.status === 400 && f.errcode === 'M_UNRECOGNIZED'));
}

/** Only well-formed entries are passed on to our clients. */
function parseResponse(body: unknown, server: string): PublicRoomsResponse {
  if (!isObject(body) || !Array.isArray(body.chunk)) throw new MatrixError(502, 'M_UNKNOWN', `${server} answered with a malformed room directory`);
  const chunk = body.chunk.filter(
    (c): c is PublicRoomsChunk =>
      isObject(c) && typeof c.room_id === 'string' && typeof c.num_joined_members === 'number' && typeof c.world_readable === 'boolean' && typeof c.guest_can_join === 'boolean',
  );
  const out: PublicRoomsResponse = { chunk };
  if (typeof body.next_batch === 'string') out.next_batch = body.next_batch;
  if (typeof body.prev_batch === 'string') out.prev_batch = body.prev_batch;
  if (typeof body.total_room_count_estimate === 'number') out.total_room_count_estimate = body.total_room_count_estimate;
  return out;
}

function filterPage(page: PublicRoomsResponse, q: PublicRoomsQuery): PublicRoomsResponse {
  const term = q.filter?.generic_search_term?.trim().toLowerCase();
  const types = q.filter?.room_types;
  const chunk = page.chunk.filter((c) => {
    if (types !== undefined && !types.includes(c.room_type ?? null)) return false;
    if (!term) return true;
    return [c.name, c.topic, c.canonical_alias].some((s) => typeof s === 'string' && s.toLowerCase().includes(term));
  });
  return { ...page, chunk };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// QueryPort over the accounts and alias services: profiles of our users, our aliases.
// Spec: server-server-api.md "Querying for information" (404 M_NOT_FOUND for unknown ones).
import { fedNotFound } from '@parley/federation/api/errors';
import { serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { QueryPort } from '@parley/federation/ports';

export interface QueryDeps {
  serverName: string;
  /** undefined when the user does not exist here. */
  profile(userId: string): Promise<{ displayname?: string; avatar_url?: string } | undefined>;
  /** Our alias → room and servers; undefined when unknown. */
  alias(alias: string): Promise<{ room_id: string; servers: string[] } | undefined>;
}

export class QueryAdapter implements QueryPort {
  constructor(private readonly deps: QueryDeps) {}

  async profile(userId: string, field: string | undefined): Promise<JsonObject> {
    if (serverNameOf(userId) !== this.deps.serverName) throw fedNotFound('The user is not on this server');
    const p = await this.deps.profile(userId);
    if (!p) throw fedNotFound('Unknown user');
    const out: JsonObject = {};
    if (p.displayname !== undefined && (field === undefined || field === 'displayname')) out.displayname = p.displayname;
    if (p.avatar_url !== undefined && (field === undefined || field === 'avatar_url')) out.avatar_url = p.avatar_url;
    return out;
  }

  async directory(alias: string): Promise<{ room_id: string; servers: string[] }> {
    if (serverNameOf(alias) !== this.deps.serverName) throw fedNotFound('The alias is not on this server');
    const r = await this.deps.alias(alias);
    if (!r) throw fedNotFound('Unknown alias');
    return r;
  }
}

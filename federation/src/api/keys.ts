// Serving keys: our own key document, and notary answers about other servers.
// Spec: server-server-api.md "Publishing Keys", "Querying Keys Through Another Server";
// keys_server.yaml, keys_query.yaml. Neither endpoint is authenticated.
import { parseServerName } from '../core/ids.js';
import type { JsonObject } from '../core/types.js';
import type { LocalServerIdentity } from '../ports.js';
import { signJson } from '../signing/signJson.js';
import { systemClock, type Clock } from '../transport/clock.js';
import { matrixError, type FederationReply, type FederationRoute } from './route.js';

export interface KeyRoutesDeps {
  local: LocalServerIdentity;
  /** The key ring (KeyRing.documentsFor): cached or freshly fetched self-signed documents. */
  keyRing: { documentsFor(serverName: string, minimumValidUntilTs: number): Promise<JsonObject[]> };
  clock?: Clock;
  /** How long others may trust our published keys. Default 7 days (receivers cap at 7 days anyway). */
  keyValidityMs?: number;
  /** Most servers one POST /query may ask about. Default 100. */
  maxQueryServers?: number;
}

const DAY = 24 * 3_600_000;

/** Our `/_matrix/key/v2/server` document, signed with our current key. */
export function ownKeyDocument(local: LocalServerIdentity, now: number, validityMs = 7 * DAY): JsonObject {
  const oldVerifyKeys: JsonObject = {};
  for (const k of local.oldVerifyKeys ?? []) oldVerifyKeys[k.keyId] = { key: k.publicKeyBase64, expired_ts: k.expiredTs };
  const doc: JsonObject = {
    server_name: local.serverName,
    verify_keys: { [local.signingKey.keyId]: { key: local.signingKey.publicKeyBase64 } },
    old_verify_keys: oldVerifyKeys,
    valid_until_ts: now + validityMs,
  };
  return signJson(doc, local.serverName, local.signingKey);
}

export function keyRoutes(deps: KeyRoutesDeps): FederationRoute[] {
  const clock = deps.clock ?? systemClock;
  const own = () => ownKeyDocument(deps.local, clock.now(), deps.keyValidityMs);

  /** Documents about `serverName`, each countersigned by us. */
  const notarise = async (serverName: string, minimumValidUntilTs: number): Promise<JsonObject[]> => {
    if (serverName === deps.local.serverName) return [own()];
    const docs = await deps.keyRing.documentsFor(serverName, minimumValidUntilTs);
    return docs.map((d) => signJson(d, deps.local.serverName, deps.local.signingKey));
  };

  return [
    {
      method: 'GET',
      path: '/_matrix/key/v2/server',
      auth: 'none',
      spec: 'server-server-api.md#get_matrixkeyv2server',
      handler: () => ({ body: own() }),
    },
    {
      method: 'GET',
      path: '/_matrix/key/v2/query/{serverName}',
      auth: 'none',
      spec: 'server-server-api.md#get_matrixkeyv2queryservername',
      async handler(ctx): Promise<FederationReply> {
        const serverName = ctx.params.serverName;
        if (parseServerName(serverName) === undefined) return matrixError(400, 'M_INVALID_PARAM', 'Invalid server name');
        const raw = ctx.query.minimum_valid_until_ts;
        let minimum = clock.now(); // keys_query.yaml: the current time when not supplied
        if (raw !== undefined) {
          if (!/^\d{1,16}$/.test(raw)) return matrixError(400, 'M_INVALID_PARAM', 'minimum_valid_until_ts must be an integer');
          minimum = Number(raw);
        }
        return { body: { server_keys: await notarise(serverName, minimum) } };
      },
    },
    {
      method: 'POST',
      path: '/_matrix/key/v2/query',
      auth: 'none',
      spec: 'server-server-api.md#post_matrixkeyv2query',
      async handler(ctx): Promise<FederationReply> {
        const query = isObject(ctx.body) ? ctx.body.server_keys : undefined;
        if (!isObject(query)) return matrixError(400, 'M_BAD_JSON', 'server_keys must be an object');
        const servers = Object.entries(query);
        if (servers.length > (deps.maxQueryServers ?? 100)) return matrixError(400, 'M_INVALID_PARAM', 'Too many servers in one query');
        const now = clock.now();
        const answers = await Promise.all(
          servers.map(([serverName, criteria]) => {
            if (parseServerName(serverName) === undefined) return [];
            return notarise(serverName, strictestMinimum(criteria, now));
          }),
        );
        return { body: { server_keys: answers.flat() } };
      },
    },
  ];
}

/** The largest `minimum_valid_until_ts` asked for any key of a server, or `now`. */
function strictestMinimum(criteria: unknown, now: number): number {
  let min: number | undefined;
  if (isObject(criteria)) {
    for (const c of Object.values(criteria)) {
      const v = isObject(c) ? c.minimum_valid_until_ts : undefined;
      if (typeof v === 'number' && Number.isSafeInteger(v)) min = Math.max(min ?? v, v);
    }
  }
  return min ?? now;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

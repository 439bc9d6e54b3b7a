// The e2ee key server's view of other servers' users: POST user/keys/query and
// user/keys/claim, each bounded by the client's timeout; a server that does not answer
// in time (or fails) is undefined, which the key server reports under `failures`.
// Spec: server-server-api.md "End-to-End Encryption" (user_keys.yaml).
import type { RemoteKeysPort } from '@parley/e2ee';
import type { JsonObject } from '@parley/federation/core/types';
import type { FederationRequester } from '@parley/federation/transport/federationClient';

type QueryAnswer = Awaited<ReturnType<RemoteKeysPort['queryKeys']>>;
type ClaimAnswer = Awaited<ReturnType<RemoteKeysPort['claimKeys']>>;

export function federationRemoteKeys(client: FederationRequester): RemoteKeysPort {
  return {
    async queryKeys(server, deviceKeys, timeoutMs) {
      const res = await client.request<QueryAnswer>({
        destination: server,
        method: 'POST',
        path: '/_matrix/federation/v1/user/keys/query',
        body: { device_keys: deviceKeys } as unknown as JsonObject,
        timeoutMs,
      });
      return res.ok && isObject(res.body) ? res.body : undefined;
    },
    async claimKeys(server, oneTimeKeys, timeoutMs) {
      const res = await client.request<ClaimAnswer>({
        destination: server,
        method: 'POST',
        path: '/_matrix/federation/v1/user/keys/claim',
        body: { one_time_keys: oneTimeKeys } as unknown as JsonObject,
        timeoutMs,
      });
      return res.ok && isObject(res.body) ? res.body : undefined;
    },
  };
}

const isObject = (v: unknown): v is NonNullable<QueryAnswer> & NonNullable<ClaimAnswer> => typeof v === 'object' && v !== null && !Array.isArray(v);

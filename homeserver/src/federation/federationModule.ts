// Federation plumbing for main.ts: the key ring (with its LevelDB cache), the outbound
// HTTPS transport (CA files, IP/name policy, address overrides), the persisted
// per-destination queues, X-Matrix verification of inbound requests, and the list of
// federation routes to mount. Spec: server-server-api.md "Server discovery",
// "Request Authentication", "Retrieving server keys", "Transactions".
import type { FederationRoute } from '@parley/federation/api/route';
import { keyRoutes } from '@parley/federation/api/keys';
import { versionRoute } from '@parley/federation/api/version';
import type { LocalServerIdentity, PduSource } from '@parley/federation/ports';
import type { Pdu } from '@parley/federation/core/types';
import { KeyRing } from '@parley/federation/signing/keyRing';
import { createFederationTransport, type FederationTransport } from '@parley/federation/transport/createTransport';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import { DestinationQueues } from '@parley/federation/transport/destinationQueue';
import { OutboundPolicy, type OutboundPolicyConfig } from '@parley/federation/transport/outboundPolicy';
import { parseXMatrixHeader, verifyRequest } from '@parley/federation/transport/xMatrix';
import type { Logger } from 'pino';
import type { FederationConfig } from '../config/config.js';
import type { ServerAuthenticator } from '../http/app.js';
import { forbidden, unauthorized } from '../http/errors.js';
import type { Route } from '../http/route.js';
import type { RoomReader } from '../rooms/types.js';
import type { Database } from '../storage/db.js';
import { FederationQueueRepo } from '../storage/federationQueueRepo.js';
import { RemoteKeysRepo } from '../storage/remoteKeysRepo.js';
import { mountFederationRoutes } from './routeAdapter.js';
import { federationPdu } from './serve/roomEventsAdapter.js';

export const PARLEY_VERSION = '0.1.0';

export interface FederationModuleDeps {
  db: Database;
  identity: LocalServerIdentity;
  config: FederationConfig;
  /** Where queued event IDs are read back as PDUs. */
  reader: Pick<RoomReader, 'getEvents'>;
  logger: Logger;
  /** Test seam: replaces the HTTPS transport (e.g. an in-process network of test servers). */
  requester?: FederationRequester;
}

export interface FederationModule {
  readonly enabled: boolean;
  readonly identity: LocalServerIdentity;
  readonly keyRing: KeyRing;
  /** Signed requests to other servers. */
  readonly client: FederationRequester;
  readonly queues: DestinationQueues;
  /** Verifies X-Matrix on routes with auth 'server' (http/app.ts). */
  readonly serverAuthenticator: ServerAuthenticator;
  /** Called with the origin of every authenticated inbound request (the peer is up). */
  onPeerActivity(listener: (origin: string) => void): void;
  /** Register more federation endpoints (the inbound side); call before routesToMount(). */
  addRoutes(routes: readonly FederationRoute[]): void;
  /** Every federation endpoint as homeserver routes; none when federation is disabled. */
  routesToMount(): Route<unknown, unknown>[];
  /** Resume queues persisted by an earlier run. */
  start(): Promise<void>;
  stop(): void;
}

export function createFederationModule(deps: FederationModuleDeps): FederationModule {
  const { config, identity } = deps;
  const log = deps.logger.child({ area: 'federation' });
  const policyConfig: OutboundPolicyConfig = {
    ...(config.server_name_allowlist ? { serverNameAllowlist: config.server_name_allowlist } : {}),
    serverNameDenylist: config.server_name_denylist,
    ...(config.ip_range_blocklist ? { ipRangeBlocklist: config.ip_range_blocklist } : {}),
    ipRangeAllowlist: config.ip_range_allowlist,
  };
  // The server-name lists apply both ways: we neither call nor accept calls from a denied server.
  const policy = new OutboundPolicy(policyConfig);
  let transport: FederationTransport | undefined;
  if (!deps.requester) {
    transport = createFederationTransport({
      identity,
      policy: policyConfig,
      extraCaFiles: config.ca_files,
      overrides: config.address_overrides,
      timeoutMs: config.request_timeout_ms,
      userAgent: `Parley/${PARLEY_VERSION}`,
    });
  }
  const client: FederationRequester = deps.requester ?? transport!.client;
  const keyRing = new KeyRing({
    local: identity,
    store: new RemoteKeysRepo(deps.db),
    requester: client,
    notaries: config.notaries.map((n) => ({ serverName: n.server_name, ...(n.verify_keys ? { verifyKeys: n.verify_keys } : {}) })),
  });
  const queues = new DestinationQueues({
    origin: identity.serverName,
    store: new FederationQueueRepo(deps.db),
    pdus: pduSource(deps.reader),
    requester: client,
    onSent: (destination, txnId, results) => {
      const pdus = (results as { pdus?: Record<string, { error?: string }> } | undefined)?.pdus ?? {};
      for (const [eventId, r] of Object.entries(pdus)) {
        if (r?.error) log.warn({ destination, txnId, eventId, error: r.error }, 'peer rejected a PDU');
      }
    },
    onDropped: (destination, entries, failure) =>
      log.warn({ destination, entries: entries.length, status: failure.status, errcode: failure.errcode, error: failure.error }, 'dropped a transaction the peer refused'),
    onError: (destination, error) => log.info({ destination, err: error }, 'transaction failed; will retry'),
  });

  const peerListeners: Array<(origin: string) => void> = [];
  const serverAuthenticator: ServerAuthenticator = {
    async authenticateServer(req) {
      // A denied server is refused before we spend a key fetch on it (Synapse: 403).
      const claimed = req.authorization !== undefined ? parseXMatrixHeader(req.authorization)?.origin : undefined;
      if (claimed !== undefined && !policy.serverNameAllowed(claimed)) throw forbidden(`Federation denied with ${claimed}`);
      const res = await verifyRequest(req, identity.serverName, keyRing);
      if (!res.ok) throw unauthorized(res.error);
      queues.onPeerActivity(res.origin);
      for (const l of peerListeners) l(res.origin);
      return res.origin;
    },
  };

  const federationRoutes: FederationRoute[] = [
    ...keyRoutes({ local: identity, keyRing }),
    versionRoute(PARLEY_VERSION),
  ];

  return {
    enabled: config.enabled,
    identity,
    keyRing,
    client,
    queues,
    serverAuthenticator,
    onPeerActivity: (listener) => void peerListeners.push(listener),
    addRoutes: (routes) => void federationRoutes.push(...routes),
    routesToMount: () => (config.enabled ? mountFederationRoutes(federationRoutes) : []),
    start: () => (config.enabled ? queues.start() : Promise.resolve()),
    stop() {
      queues.stop();
      transport?.close();
    },
  };
}

/** Stored events in their federation form (federationPdu). */
export function pduSource(reader: Pick<RoomReader, 'getEvents'>): PduSource {
  return {
    async getPdus(eventIds) {
      const events = await reader.getEvents([...eventIds]);
      const out = new Map<string, Pdu>();
      for (const e of events) {
        if (e === undefined) continue;
        out.set(e.eventId, federationPdu(e));
      }
      return out;
    },
  };
}

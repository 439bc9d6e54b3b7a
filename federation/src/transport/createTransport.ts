// Wiring for the homeserver: one call builds the policy, trust store, connector,
// resolver and client from configuration.
import type { LocalServerIdentity } from '../ports.js';
import { FederationClient } from './federationClient.js';
import { HttpsConnector, type AddressLookup } from './httpsConnector.js';
import { OutboundPolicy, type OutboundPolicyConfig } from './outboundPolicy.js';
import { ServerResolver, type SrvLookup } from './resolveServer.js';
import { buildTrustedCas } from './trustStore.js';
import { createWellKnownFetcher } from './wellKnownFetcher.js';

export interface FederationTransportConfig {
  identity: Pick<LocalServerIdentity, 'serverName' | 'signingKey'>;
  policy?: OutboundPolicyConfig;
  /** PEM files of additional trusted CAs (e.g. the organisation's internal CA). */
  extraCaFiles?: readonly string[];
  /** serverName → `host[:port]`, bypassing discovery. */
  overrides?: Readonly<Record<string, string>>;
  /** Per-request timeout, default 60 s. */
  timeoutMs?: number;
  userAgent?: string;
  /** Test seams. */
  lookup?: AddressLookup;
  srv?: SrvLookup;
  ca?: readonly (string | Buffer)[];
}

export interface FederationTransport {
  client: FederationClient;
  resolver: ServerResolver;
  connector: HttpsConnector;
  policy: OutboundPolicy;
  /** Close pooled connections (on shutdown). */
  close(): void;
}

export function createFederationTransport(cfg: FederationTransportConfig): FederationTransport {
  const policy = new OutboundPolicy(cfg.policy);
  const connector = new HttpsConnector({ policy, ca: cfg.ca ?? buildTrustedCas(cfg.extraCaFiles), lookup: cfg.lookup });
  const resolver = new ServerResolver({ wellKnown: createWellKnownFetcher(connector), srv: cfg.srv, overrides: cfg.overrides });
  const client = new FederationClient({
    identity: cfg.identity,
    resolver,
    connector,
    policy,
    timeoutMs: cfg.timeoutMs,
    userAgent: cfg.userAgent,
  });
  return { client, resolver, connector, policy, close: () => connector.close() };
}

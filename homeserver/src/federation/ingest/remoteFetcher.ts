// The requests ingest makes to other servers to fill holes in a room's graph.
// Spec: server-server-api.md "Backfilling and retrieving missing events"
// (get_missing_events), "Retrieving events" (/event, /state_ids),
// "Retrieving event authorisation information" (/event_auth).
import type { FederationFailure, FederationRequester } from '@parley/federation/transport/federationClient';

export class RemoteFetchError extends Error {
  constructor(
    message: string,
    /** The server may answer later (no answer, 5xx, 429), as opposed to refusing or answering nonsense. */
    readonly passing = false,
  ) {
    super(message);
  }
}

/** A failure that may not happen on the next try. */
function isPassing(f: FederationFailure): boolean {
  if (f.status === 0) return f.kind === 'network' || f.kind === 'timeout' || f.kind === 'dns' || f.kind === 'resolve';
  return f.status >= 500 || f.status === 429;
}

const failed = (what: string, f: FederationFailure) => new RemoteFetchError(`${what} failed: ${f.error}`, isPassing(f));

const enc = encodeURIComponent;

export class RemoteFetcher {
  constructor(private readonly requester: FederationRequester) {}

  /** Events between our forward extremities (earliest) and `latest`, oldest first. */
  async missingEvents(
    destination: string,
    roomId: string,
    body: { earliest_events: string[]; latest_events: string[]; limit: number; min_depth: number },
  ): Promise<unknown[]> {
    const res = await this.requester.request<{ events?: unknown }>({
      destination,
      method: 'POST',
      path: `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`,
      body,
    });
    if (!res.ok) throw failed(`get_missing_events from ${destination}`, res);
    return Array.isArray(res.body.events) ? res.body.events : [];
  }

  /** The state before `eventId` and its auth chain, as event IDs. */
  async stateIds(destination: string, roomId: string, eventId: string): Promise<{ pduIds: string[]; authChainIds: string[] }> {
    const res = await this.requester.request<{ pdu_ids?: unknown; auth_chain_ids?: unknown }>({
      destination,
      method: 'GET',
      path: `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(eventId)}`,
    });
    if (!res.ok) throw failed(`state_ids from ${destination}`, res);
    return { pduIds: strings(res.body.pdu_ids), authChainIds: strings(res.body.auth_chain_ids) };
  }

  /** One event, or undefined if the server does not have it (or will not give it). */
  async event(destination: string, eventId: string): Promise<unknown | undefined> {
    const res = await this.requester.request<{ pdus?: unknown }>({
      destination,
      method: 'GET',
      path: `/_matrix/federation/v1/event/${enc(eventId)}`,
    });
    if (!res.ok || !Array.isArray(res.body.pdus)) return undefined;
    return res.body.pdus[0];
  }

  /** The full auth chain of an event. */
  async eventAuth(destination: string, roomId: string, eventId: string): Promise<unknown[]> {
    const res = await this.requester.request<{ auth_chain?: unknown }>({
      destination,
      method: 'GET',
      path: `/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc(eventId)}`,
    });
    if (!res.ok) throw failed(`event_auth from ${destination}`, res);
    return Array.isArray(res.body.auth_chain) ? res.body.auth_chain : [];
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

// How a failed request to another server is reported to our client.
import type { FederationFailure } from '@parley/federation/transport/federationClient';
import { MatrixError } from '../../http/errors.js';

/**
 * A peer's 4xx Matrix error is passed on as it is (e.g. 403 M_FORBIDDEN "not invited");
 * anything else means the peer could not be asked: 502, as Synapse answers.
 */
export function asClientError(f: FederationFailure, what: string): MatrixError {
  if (f.kind === 'http' && f.status >= 400 && f.status < 500 && f.status !== 401 && f.status !== 429) {
    return new MatrixError(f.status, f.errcode, f.error);
  }
  return new MatrixError(502, 'M_UNKNOWN', `${what}: ${f.error}`);
}

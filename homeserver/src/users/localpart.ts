// Which localparts a user may register. The grammar is federation's; the extra
// rules are Synapse's: numeric localparts are reserved for generated IDs and a
// leading underscore for application services.
// Spec: appendices.md "User Identifiers"; client-server-api registration.yaml (M_INVALID_USERNAME).
import { isValidLocalpart } from '@parley/federation/core/ids';

/** Why a desired localpart cannot be registered, or undefined when it can. */
export function localpartProblem(localpart: string, serverName: string): string | undefined {
  if (localpart === '') return 'User ID cannot be empty';
  if (!isValidLocalpart(localpart)) return "User ID can only contain characters a-z, 0-9, or '=_-./+'";
  if (!isValidLocalpart(localpart, serverName)) return 'User ID may not be longer than 255 characters';
  if (localpart.startsWith('_')) return 'User ID may not begin with _';
  if (/^[0-9]+$/.test(localpart)) return 'Numeric user IDs are reserved for generated IDs';
  return undefined;
}

/** What a client typed as user (localpart or full user ID) → the local user ID, or undefined if not local. */
export function qualifyUser(user: string, serverName: string): string | undefined {
  if (!user.startsWith('@')) return `@${user.toLowerCase()}:${serverName}`;
  const colon = user.indexOf(':');
  if (colon < 0 || user.slice(colon + 1) !== serverName) return undefined;
  // Localparts are registered in lower case; clients may type them capitalised (as Synapse's lookup).
  return `@${user.slice(1, colon).toLowerCase()}:${serverName}`;
}

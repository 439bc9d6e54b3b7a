// Shared pieces of the admin API routes: who may call them, and Synapse's query parameters.
import { forbidden, invalidParam } from '../../http/errors.js';
import { requesterOf, type Requester } from '../../http/route.js';

/** Synapse answers 403 M_FORBIDDEN to everyone who is not a server admin. */
export function adminOf(ctx: { requester: Requester | undefined }): Requester {
  const r = requesterOf(ctx);
  if (!r.isAdmin) throw forbidden('You are not a server admin');
  return r;
}

/** A 'true' / 'false' query parameter. */
export function boolParam(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidParam(`Query parameter ${name} must be 'true' or 'false'`);
}

/** A non-negative integer query parameter. */
export function intParam(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d{1,15}$/.test(v)) throw invalidParam(`Query parameter ${name} must be a non-negative integer`);
  return Number(v);
}

export function dirParam(v: string | undefined): 'f' | 'b' {
  if (v === undefined || v === 'f' || v === 'b') return v ?? 'f';
  throw invalidParam("Query parameter dir must be 'f' or 'b'");
}

export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw invalidParam(`Unknown value for ${name}: ${v}`);
  return v as T;
}

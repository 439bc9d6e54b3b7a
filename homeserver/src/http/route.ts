// Routes are declared as data: method, spec-style path, who may call, rate-limit
// class, schemas for body and query, and a handler that returns a plain object
// (sent as JSON) or, for media, a binary body.
// http/app.ts turns the list into an HTTP server; handlers never see express.
import type { Readable } from 'node:stream';
import type { z } from 'zod';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * user: a valid access token is required; optional: used when present; none: never looked at;
 * server: a federation request signed with X-Matrix (ctx.origin is the verified origin).
 */
export type AuthKind = 'user' | 'optional' | 'none' | 'server';

/** Rate-limit classes; each has its own bucket per user (or per IP before login). */
export type RateLimitClass = 'message' | 'login' | 'register' | 'general';

export interface Requester {
  userId: string;
  deviceId: string;
  /** Server administrators may call the admin API. */
  isAdmin: boolean;
}

export interface RequestContext<Body, Query> {
  params: Record<string, string>;
  query: Query;
  body: Body;
  /** Set when auth is 'user' (always) or 'optional' (when a token was given). */
  requester: Requester | undefined;
  /** Set when auth is 'server': the server whose X-Matrix signature was verified. */
  origin: string | undefined;
  ip: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * The request body as bytes, for routes declared with `rawBody: true` (media uploads).
   * Reading past `maxBodyBytes` makes the stream fail with M_TOO_LARGE.
   */
  raw: Readable | undefined;
}

/** What a handler returns: a JSON body, with an optional status and headers. */
export interface JsonReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A binary body (media downloads): streamed, or sent from memory. */
export interface BinaryReply {
  status?: number;
  binary: Readable | Buffer;
  contentType: string;
  /** Sent as Content-Length when known. */
  length?: number;
  headers?: Record<string, string>;
}

export type Reply = JsonReply | BinaryReply;

export interface Route<Body = unknown, Query = Record<string, string | undefined>> {
  method: Method;
  /** Spec-style path, e.g. `/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}`. */
  path: string;
  auth: AuthKind;
  rateLimit?: RateLimitClass;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query>;
  /** Largest accepted request body; default 1 MiB. */
  maxBodyBytes?: number;
  /** Give the handler the body as a byte stream (ctx.raw) instead of parsing JSON; excludes `body`. */
  rawBody?: boolean;
  /** The spec section this implements, e.g. `client-server-api/_index.md#post_matrixclientv3login`. */
  spec: string;
  handler(ctx: RequestContext<Body, Query>): Promise<Reply> | Reply;
}

/** A route whose body and query types are inferred from its schemas. */
export function route<B extends z.ZodType = z.ZodType<unknown>, Q extends z.ZodType = z.ZodType<Record<string, string | undefined>>>(def: {
  method: Method;
  path: string;
  auth: AuthKind;
  rateLimit?: RateLimitClass;
  body?: B;
  query?: Q;
  maxBodyBytes?: number;
  rawBody?: boolean;
  spec: string;
  handler(ctx: RequestContext<z.infer<B>, z.infer<Q>>): Promise<Reply> | Reply;
}): Route<unknown, unknown> {
  return def as unknown as Route<unknown, unknown>;
}

/** Authenticated context helper: the requester of a route declared with auth 'user'. */
export function requesterOf(ctx: { requester: Requester | undefined }): Requester {
  if (!ctx.requester) throw new Error('route declared auth "user" but no requester was resolved');
  return ctx.requester;
}

export const ok = (body: unknown = {}, status = 200): JsonReply => ({ status, body });

/** The byte stream of a route declared with `rawBody: true`. */
export function rawBodyOf(ctx: { raw: Readable | undefined }): Readable {
  if (!ctx.raw) throw new Error('route did not declare rawBody: true');
  return ctx.raw;
}

// Federation routes as plain data, shaped like homeserver/src/http/route.ts (which
// federation cannot import) so the HTTP adapter can mount them: the handler gets the
// parsed request and returns `{status?, body}`; errors are returned, not thrown.

export type FederationMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** server: the adapter checks X-Matrix (transport/xMatrix.ts verifyRequest) and sets `origin`. */
export type FederationAuth = 'server' | 'none';

export interface FederationContext {
  params: Record<string, string>;
  /** The first value of each query parameter. */
  query: Record<string, string | undefined>;
  /** Every value of each query parameter, for repeated ones (make_join's `ver`); always set by the HTTP adapter. */
  queryAll?: Record<string, string[]>;
  body: unknown;
  /** The authenticated origin server, for `auth: 'server'` routes. */
  origin?: string;
}

export interface FederationReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FederationRoute {
  method: FederationMethod;
  /** Spec-style path, e.g. `/_matrix/key/v2/query/{serverName}`. */
  path: string;
  auth: FederationAuth;
  /** The spec section this implements. */
  spec: string;
  maxBodyBytes?: number;
  handler(ctx: FederationContext): Promise<FederationReply> | FederationReply;
}

export const matrixError = (status: number, errcode: string, error: string): FederationReply => ({
  status,
  body: { errcode, error },
});

// Errors of the key server, as the spec names them. The homeserver's HTTP layer
// turns each into `{errcode, error, …extra}` with its status.
export class E2eeError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const invalidParam = (msg: string) => new E2eeError(400, 'M_INVALID_PARAM', msg);
export const missingParam = (msg: string) => new E2eeError(400, 'M_MISSING_PARAM', msg);
export const badJson = (msg: string) => new E2eeError(400, 'M_BAD_JSON', msg);
export const invalidSignature = (msg = 'Invalid signature') => new E2eeError(400, 'M_INVALID_SIGNATURE', msg);
export const forbidden = (msg: string) => new E2eeError(403, 'M_FORBIDDEN', msg);
export const notFound = (msg: string) => new E2eeError(404, 'M_NOT_FOUND', msg);
/** Synapse answers conflicts it has no errcode for with M_UNKNOWN. */
export const conflict = (msg: string) => new E2eeError(400, 'M_UNKNOWN', msg);
/** Spec: key_backup.yaml — writes must go to the current backup version. */
export const wrongRoomKeysVersion = (current: string) =>
  new E2eeError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version', { current_version: current });

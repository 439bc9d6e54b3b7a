// The one catalogue of errors a request can end with. Handlers throw MatrixError
// values made by these factories; http/app.ts turns them into `{errcode, error}`
// with the right status. Spec: client-server-api/_index.md "Standard error response".

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (msg = 'Forbidden') => new MatrixError(403, 'M_FORBIDDEN', msg);
export const notFound = (msg = 'Not found') => new MatrixError(404, 'M_NOT_FOUND', msg);
export const unrecognized = (msg = 'Unrecognized request') => new MatrixError(404, 'M_UNRECOGNIZED', msg);
export const methodNotAllowed = () => new MatrixError(405, 'M_UNRECOGNIZED', 'Method not allowed for this endpoint');
export const notJson = (msg = 'Content not JSON') => new MatrixError(400, 'M_NOT_JSON', msg);
export const badJson = (msg: string) => new MatrixError(400, 'M_BAD_JSON', msg);
export const invalidParam = (msg: string) => new MatrixError(400, 'M_INVALID_PARAM', msg);
export const missingParam = (msg: string) => new MatrixError(400, 'M_MISSING_PARAM', msg);
export const missingToken = () => new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
export const unknownToken = (softLogout = false) =>
  new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown or expired access token', { soft_logout: softLogout });
export const tooLarge = (msg = 'Request too large') => new MatrixError(413, 'M_TOO_LARGE', msg);
export const limitExceeded = (retryAfterMs: number) =>
  new MatrixError(
    429,
    'M_LIMIT_EXCEEDED',
    'Too many requests',
    { retry_after_ms: retryAfterMs },
    { 'Retry-After': String(Math.ceil(retryAfterMs / 1000)) },
  );
export const userInUse = () => new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken');
export const invalidUsername = (msg = 'Invalid username') => new MatrixError(400, 'M_INVALID_USERNAME', msg);
export const exclusive = (msg: string) => new MatrixError(400, 'M_EXCLUSIVE', msg);
export const userDeactivated = () => new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
export const unsupportedRoomVersion = (v: string) =>
  new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${v} is not supported`);
export const roomInUse = (msg = 'Room alias already taken') => new MatrixError(400, 'M_ROOM_IN_USE', msg);
export const unknown = (msg: string, status = 400) => new MatrixError(status, 'M_UNKNOWN', msg);
export const unauthorized = (msg = 'Unauthorized') => new MatrixError(401, 'M_UNAUTHORIZED', msg);
export const guestAccessForbidden = () => new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access is not allowed');
export const badState = (msg: string) => new MatrixError(400, 'M_BAD_STATE', msg);
export const invalidToken = (msg: string) => new MatrixError(401, 'M_UNKNOWN_TOKEN', msg);
export const notFoundOrForbidden = forbidden;
// Rooms
export const invalidRoomState = (msg: string) => new MatrixError(400, 'M_INVALID_ROOM_STATE', msg);
export const unsupportedFeature = (msg: string) => new MatrixError(400, 'M_UNRECOGNIZED', msg);
export const aliasExists = (alias: string) => new MatrixError(409, 'M_UNKNOWN', `Room alias ${alias} already exists`);
// Media
export const cannotOverwriteMedia = () => new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
export const notYetUploaded = () => new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
// Server notices (client-server-api/modules/server_notices.md "Client behaviour")
export const cannotLeaveServerNoticeRoom = () =>
  new MatrixError(403, 'M_CANNOT_LEAVE_SERVER_NOTICE_ROOM', 'You cannot reject this invite');
// Messaging features
export const duplicateAnnotation = () =>
  new MatrixError(400, 'M_DUPLICATE_ANNOTATION', 'You have already sent this annotation for this event');

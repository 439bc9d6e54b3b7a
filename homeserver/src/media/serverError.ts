import { MatrixError } from '../http/errors.js';

/** 500 M_UNKNOWN: the request may succeed if repeated. */
export const serverError = (msg: string) => new MatrixError(500, 'M_UNKNOWN', msg);

// Zod pieces for query-string parameters, which arrive as strings.
import { z } from 'zod';

/** A non-negative integer written in decimal. */
export const intParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);

/** `true` / `false`. */
export const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A parameter that may be given once or repeated (e.g. `via`): one string or a list. */
export const stringOrList = z.union([z.string(), z.array(z.string())]).optional();

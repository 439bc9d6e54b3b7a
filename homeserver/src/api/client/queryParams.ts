// Zod pieces for query-string parameters, which arrive as strings.
import { z } from 'zod';

/** A non-negative integer written in decimal. */
export const intParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);

/** `true` / `false`. */
export const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

// Shared validation for the room endpoints: identifiers in paths and bodies are
// checked against the grammar (400 M_INVALID_PARAM), JSON objects by zod.
import { isValidRoomId, isValidUserId } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import { z } from 'zod';
import { invalidParam } from '../../http/errors.js';

export const jsonObject = z.custom<JsonObject>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a JSON object');

export const membershipValue = z.enum(['join', 'invite', 'knock', 'leave', 'ban']);

export function roomIdParam(v: string | undefined): string {
  if (v === undefined || !isValidRoomId(v)) throw invalidParam(`Invalid room ID: ${JSON.stringify(v)}`);
  return v;
}

export function userIdField(v: string, what = 'user_id'): string {
  if (!isValidUserId(v)) throw invalidParam(`Invalid ${what}: ${JSON.stringify(v)}`);
  return v;
}

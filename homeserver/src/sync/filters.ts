// Stored and inline filters. A filter's ID is derived from its canonical JSON, so a
// client that uploads the same filter at every start-up gets the same ID back instead
// of growing the store. Spec: client-server-api/_index.md "Filtering";
// data/api/client-server/filter.yaml; sync.yaml `filter` (ID, or JSON if it starts with `{`).
import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { canonicalJson } from '@parley/federation/core/canonicalJson';
import type { JsonValue } from '@parley/federation/core/types';
import { badJson, forbidden, invalidParam, notFound, notJson } from '../http/errors.js';
import type { FiltersRepo } from '../storage/filtersRepo.js';
import { Lru } from '../storage/lru.js';
import { filterSchema, roomEventFilterSchema, type FilterJson, type RoomEventFilterJson } from './filter.js';
import { compileFilter, compileRoomEventFilter, type CompiledFilter, type RoomEventMatcher } from './filterMatch.js';

/** Compiled /sync filters kept: clients send the same filter with every request. */
const COMPILED_FILTERS = 5_000;

export class FilterService {
  /**
   * Compiled filters by inline JSON text, or by user and ID (a stored filter never changes:
   * its ID names its content). Shared by every request that uses them, held syncs included.
   */
  private readonly compiled = new Lru<string, CompiledFilter>(COMPILED_FILTERS);
  /**
   * Stored filters by ID alone: an ID is its content's hash (filterIdOf), so users who upload
   * the same filter (every user of one client) share one compiled filter, and their woken
   * syncs can share a rooms section (sharedAnswers.ts groups by filter).
   */
  private readonly compiledById = new Lru<string, CompiledFilter>(COMPILED_FILTERS);
  private readonly none = compileFilter(undefined);

  constructor(private readonly repo: FiltersRepo) {}

  /** POST /user/{userId}/filter: the body is already validated against filterSchema. */
  async create(requester: string, userId: string, filter: FilterJson): Promise<string> {
    if (requester !== userId) throw forbidden('Cannot create filters for other users');
    const id = filterIdOf(filter);
    await this.repo.put(userId, id, filter);
    return id;
  }

  /** GET /user/{userId}/filter/{filterId}. */
  async get(requester: string, userId: string, filterId: string): Promise<Record<string, unknown>> {
    if (requester !== userId) throw forbidden('Cannot read filters of other users');
    const f = await this.repo.get(userId, filterId);
    if (!f) throw notFound('No such filter');
    return f;
  }

  /** The /sync `filter` parameter: absent, a filter ID of the user, or inline JSON. */
  async resolveSyncFilter(userId: string, param: string | undefined): Promise<CompiledFilter> {
    if (param === undefined || param === '') return this.none;
    const inline = param.startsWith('{');
    const cacheKey = inline ? param : `${userId}\u0000${param}`;
    const hit = this.compiled.get(cacheKey);
    if (hit) return hit;
    let filter: CompiledFilter;
    if (inline) filter = compileFilter(parseInline(param, filterSchema));
    else {
      const stored = await this.repo.get(userId, param);
      // Synapse answers an unknown filter ID on /sync with 400.
      if (!stored) throw invalidParam('No such filter');
      const parsed = filterSchema.parse(stored);
      // Only an ID that is its content's hash names the same filter for everyone.
      const named = filterIdOf(parsed) === param;
      filter = (named ? this.compiledById.get(param) : undefined) ?? compileFilter(parsed);
      if (named) this.compiledById.set(param, filter);
    }
    this.compiled.set(cacheKey, filter);
    return filter;
  }
}

/** The `filter` parameter of /messages and /context: a RoomEventFilter as JSON. */
export function parseRoomEventFilterParam(param: string | undefined): RoomEventMatcher {
  if (param === undefined || param === '') return compileRoomEventFilter(undefined);
  return compileRoomEventFilter(parseInline<RoomEventFilterJson>(param, roomEventFilterSchema));
}

function parseInline<T>(text: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw notJson('filter is not valid JSON');
  }
  const res = schema.safeParse(json);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw badJson(`Invalid filter field '${issue.path.join('.')}': ${issue.message}`);
  }
  return res.data;
}

function filterIdOf(filter: FilterJson): string {
  let text: string;
  try {
    text = canonicalJson(filter as JsonValue);
  } catch {
    // Not canonicalisable (e.g. a float in an unknown field): no dedup, a fresh ID.
    return randomBytes(12).toString('base64url');
  }
  // base64url never starts with `{`, which would read as inline JSON (filter.yaml).
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

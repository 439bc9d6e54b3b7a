// A user's push rules: read (cached, for the evaluator and the API) and edited through the
// /pushrules API. Every change is written durably, then published to the user's clients
// as `m.push_rules` global account data. Spec: client-server-api/modules/push.md
// "Push Rules: API", "Push Rules: Events"; data/api/client-server/pushrules.yaml.
import { notFound, unknown, unrecognized } from '../http/errors.js';
import { Lru } from '../storage/lru.js';
import type { PushRulesRepo } from '../storage/pushRulesRepo.js';
import { KeyedLock } from '../util/keyedLock.js';
import { normaliseActions } from './actions.js';
import type { DefaultRuleOptions } from './defaultRules.js';
import {
  buildRuleset,
  changeRule,
  deleteRule,
  emptyStoredRules,
  findRule,
  isUnchanged,
  putRule,
  type DefaultRuleChange,
  type StoredPushRules,
} from './ruleset.js';
import { isRuleKind, type ApiPushRule, type PushCondition, type RuleKind, type Ruleset } from './types.js';

/** Where `m.push_rules` goes: the sync module's account data service. */
export interface PushRulesAccountData {
  set(userId: string, roomId: undefined, type: string, content: Record<string, unknown>): Promise<unknown>;
}

export interface PushRulesDeps {
  repo: PushRulesRepo;
  /** Absent until account data exists: rules still work, clients just are not told by /sync. */
  accountData?: PushRulesAccountData;
  defaults?: DefaultRuleOptions;
}

export interface RuleBody {
  actions: unknown[];
  conditions?: PushCondition[];
  pattern?: string;
}

export const PUSH_RULES_TYPE = 'm.push_rules';

/** Rulesets kept built; users with only the defaults cost an entry of `null`. */
const CACHE_SIZE = 100_000;

export class PushRulesService {
  /** user → their built ruleset, or null when it is exactly the server defaults. */
  private readonly cache = new Lru<string, Ruleset | null>(CACHE_SIZE);
  private readonly lock = new KeyedLock();
  /** Bumped by every edit, so that a read racing with an edit never caches the older rules. */
  private edits = 0;
  /** Users whose rules differ from the server defaults (loaded on first use, then kept by edit()). */
  private custom: Promise<Set<string>> | undefined;

  constructor(private readonly deps: PushRulesDeps) {}

  /** The user's full ruleset, defaults included, in evaluation order. Do not mutate it. */
  async ruleset(userId: string): Promise<Ruleset> {
    const [custom] = await this.customRulesets([userId]);
    return custom ?? buildRuleset(emptyStoredRules(), userId, this.deps.defaults);
  }

  /**
   * For evaluation, in one read for the users not cached: each user's ruleset, or undefined
   * for a user whose rules are exactly the server defaults (push/sharedEvaluation.ts).
   */
  async customRulesets(userIds: readonly string[]): Promise<Array<Ruleset | undefined>> {
    const out = userIds.map((u) => this.cache.get(u));
    const missing = userIds.filter((_, i) => out[i] === undefined);
    if (missing.length > 0) {
      const edits = this.edits;
      const stored = await this.deps.repo.getMany(missing);
      const built = new Map<string, Ruleset | null>();
      missing.forEach((u, i) => built.set(u, this.build(u, stored[i])));
      if (edits === this.edits) for (const [u, r] of built) this.cache.set(u, r);
      userIds.forEach((u, i) => {
        if (out[i] === undefined) out[i] = built.get(u);
      });
    }
    return out.map((r) => r ?? undefined);
  }

  /**
   * The users whose rules are not exactly the server defaults: everyone else gets the
   * shared evaluation's result (push/sharedEvaluation.ts). Do not mutate the set.
   */
  customUsers(): Promise<ReadonlySet<string>> {
    // A failed read is tried again by the next caller rather than kept.
    this.custom ??= this.loadCustomUsers().catch((err: unknown) => {
      this.custom = undefined;
      throw err;
    });
    return this.custom;
  }

  private async loadCustomUsers(): Promise<Set<string>> {
    for (;;) {
      const edits = this.edits;
      const all = await this.deps.repo.all();
      // An edit during the read may be missing from it: read again.
      if (edits === this.edits) return new Set(all.filter((r) => !isUnchanged(r.rules)).map((r) => r.userId));
    }
  }

  private build(userId: string, stored: StoredPushRules | undefined): Ruleset | null {
    return stored && !isUnchanged(stored) ? buildRuleset(stored, userId, this.deps.defaults) : null;
  }

  /** The content of the user's `m.push_rules` account data (and of GET /pushrules/). */
  async content(userId: string): Promise<{ global: Ruleset }> {
    return { global: await this.ruleset(userId) };
  }

  async getRule(userId: string, kind: string, ruleId: string): Promise<ApiPushRule> {
    const rule = findRule(await this.ruleset(userId), checkKind(kind), ruleId);
    if (!rule) throw notFound('The push rule was not found');
    return rule;
  }

  async putRule(userId: string, kind: string, ruleId: string, body: RuleBody, place: { before?: string; after?: string }): Promise<void> {
    const k = checkKind(kind);
    // pushrules.yaml: IDs starting with '.' are reserved for server-default rules; no slashes.
    if (ruleId.startsWith('.')) throw unknown("Rule IDs starting with '.' are reserved for server-default rules");
    if (/[/\\]/.test(ruleId)) throw unknown('Rule IDs may not contain slashes or backslashes');
    const actions = normaliseActions(body.actions);
    if (!actions) throw unknown('Invalid actions: each must be "notify" or a set_tweak object');
    if (k === 'content' && typeof body.pattern !== 'string') throw unknown("Content rules need a 'pattern'");
    await this.edit(userId, (stored) =>
      putRule(stored, k, ruleId, { actions, conditions: body.conditions, pattern: body.pattern }, place),
    );
  }

  async deleteRule(userId: string, kind: string, ruleId: string): Promise<void> {
    const k = checkKind(kind);
    await this.edit(userId, (stored, ruleset) => deleteRule(stored, ruleset, k, ruleId));
  }

  async setEnabled(userId: string, kind: string, ruleId: string, enabled: boolean): Promise<void> {
    await this.change(userId, checkKind(kind), ruleId, { enabled });
  }

  async setActions(userId: string, kind: string, ruleId: string, actions: unknown[]): Promise<void> {
    const normalised = normaliseActions(actions);
    if (!normalised) throw unknown('Invalid actions: each must be "notify" or a set_tweak object');
    await this.change(userId, checkKind(kind), ruleId, { actions: normalised });
  }

  private change(userId: string, kind: RuleKind, ruleId: string, change: DefaultRuleChange): Promise<void> {
    return this.edit(userId, (stored, ruleset) => changeRule(stored, ruleset, kind, ruleId, change));
  }

  /** Read-modify-write under the user's lock; durable before clients are told. */
  private edit(userId: string, fn: (stored: StoredPushRules, ruleset: Ruleset) => StoredPushRules): Promise<void> {
    return this.lock.run(userId, async () => {
      const stored = (await this.deps.repo.get(userId)) ?? emptyStoredRules();
      const next = fn(stored, buildRuleset(stored, userId, this.deps.defaults));
      await this.deps.repo.put(userId, next);
      this.edits++;
      const ruleset = buildRuleset(next, userId, this.deps.defaults);
      this.cache.set(userId, isUnchanged(next) ? null : ruleset);
      const custom = await this.custom?.catch(() => undefined);
      if (isUnchanged(next)) custom?.delete(userId);
      else custom?.add(userId);
      await this.deps.accountData?.set(userId, undefined, PUSH_RULES_TYPE, { global: ruleset });
    });
  }
}

/** The spec lists the kinds as a closed set: any other value is not an endpoint. */
function checkKind(kind: string): RuleKind {
  if (!isRuleKind(kind)) throw unrecognized(`Unknown push rule kind: ${kind}`);
  return kind;
}

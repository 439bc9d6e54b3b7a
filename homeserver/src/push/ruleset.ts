// A user's push rules as stored (their own rules, plus their changes to server-default
// rules), the full ruleset clients see, and the edits the /pushrules API makes — all
// pure functions. Spec: client-server-api/modules/push.md "Predefined Rules" (.m.rule.master
// above everything, other defaults below the user's rules of their kind);
// data/api/client-server/pushrules.yaml (before/after, new rules enabled and most important).
import { notFound, unknown } from '../http/errors.js';
import { defaultRules, type DefaultRuleOptions } from './defaultRules.js';
import { RULE_KINDS, type ApiPushRule, type PushAction, type PushRule, type RuleKind, type Ruleset } from './types.js';

export interface DefaultRuleChange {
  enabled?: boolean;
  actions?: PushAction[];
}

export interface StoredPushRules {
  /** The user's own rules per kind, most important first. */
  rules: Record<RuleKind, PushRule[]>;
  /** `${kind}/${ruleId}` → what the user changed on a server-default rule. */
  defaults: Record<string, DefaultRuleChange>;
}

export const emptyStoredRules = (): StoredPushRules => ({
  rules: { override: [], content: [], room: [], sender: [], underride: [] },
  defaults: {},
});

/** The user has no rules of their own and has changed no default rule. */
export function isUnchanged(stored: StoredPushRules): boolean {
  return Object.keys(stored.defaults).length === 0 && RULE_KINDS.every((k) => stored.rules[k].length === 0);
}

/** The ruleset as GET /pushrules/ and `m.push_rules` show it, in evaluation order. */
export function buildRuleset(stored: StoredPushRules, userId: string, opts: DefaultRuleOptions = {}): Ruleset {
  const defaults = defaultRules(userId, opts);
  const withChanges = (kind: RuleKind, r: ApiPushRule): ApiPushRule => {
    const change = stored.defaults[`${kind}/${r.rule_id}`];
    return change ? { ...r, enabled: change.enabled ?? r.enabled, actions: change.actions ?? r.actions } : r;
  };
  const user = (kind: RuleKind): ApiPushRule[] => stored.rules[kind].map((r) => ({ ...r, default: false }));
  const out = {} as Ruleset;
  for (const kind of RULE_KINDS) {
    out[kind] = [...user(kind), ...defaults.byKind[kind].map((r) => withChanges(kind, r))];
  }
  out.override.unshift(withChanges('override', defaults.master));
  return out;
}

export function findRule(ruleset: Ruleset, kind: RuleKind, ruleId: string): ApiPushRule | undefined {
  return ruleset[kind].find((r) => r.rule_id === ruleId);
}

export interface NewRule {
  actions: PushAction[];
  conditions?: PushRule['conditions'];
  pattern?: string;
}

/**
 * Add or replace a user rule. A replaced rule keeps its enabled flag; placement follows
 * `before` (wins when both are given), else `after`, else first among the user's rules.
 */
export function putRule(
  stored: StoredPushRules,
  kind: RuleKind,
  ruleId: string,
  rule: NewRule,
  place: { before?: string; after?: string },
): StoredPushRules {
  const list = stored.rules[kind];
  const existing = list.find((r) => r.rule_id === ruleId);
  const rest = list.filter((r) => r.rule_id !== ruleId);
  const created: PushRule = { rule_id: ruleId, enabled: existing?.enabled ?? true, actions: rule.actions };
  if (kind === 'override' || kind === 'underride') created.conditions = rule.conditions ?? [];
  if (kind === 'content') created.pattern = rule.pattern;

  let index = 0;
  const anchor = place.before ?? place.after;
  if (anchor !== undefined) {
    // pushrules.yaml: rules cannot be placed relative to server-default rules.
    if (anchor.startsWith('.')) throw unknown(`Cannot place a rule relative to the server-default rule ${anchor}`);
    const at = rest.findIndex((r) => r.rule_id === anchor);
    if (at < 0) throw unknown(`before/after rule not found: ${anchor}`);
    index = place.before !== undefined ? at : at + 1;
  }
  rest.splice(index, 0, created);
  return { ...stored, rules: { ...stored.rules, [kind]: rest } };
}

export function deleteRule(stored: StoredPushRules, ruleset: Ruleset, kind: RuleKind, ruleId: string): StoredPushRules {
  const list = stored.rules[kind];
  if (!list.some((r) => r.rule_id === ruleId)) {
    if (findRule(ruleset, kind, ruleId)?.default) throw unknown('Server-default rules cannot be deleted; disable them instead');
    throw notFound('The push rule was not found');
  }
  return { ...stored, rules: { ...stored.rules, [kind]: list.filter((r) => r.rule_id !== ruleId) } };
}

/** Set `enabled` or `actions` of a user rule or a server-default rule (404 if neither exists). */
export function changeRule(
  stored: StoredPushRules,
  ruleset: Ruleset,
  kind: RuleKind,
  ruleId: string,
  change: DefaultRuleChange,
): StoredPushRules {
  const rule = findRule(ruleset, kind, ruleId);
  if (!rule) throw notFound('The push rule was not found');
  if (rule.default) {
    const k = `${kind}/${ruleId}`;
    return { ...stored, defaults: { ...stored.defaults, [k]: { ...stored.defaults[k], ...change } } };
  }
  const list = stored.rules[kind].map((r) => (r.rule_id === ruleId ? { ...r, ...change } : r));
  return { ...stored, rules: { ...stored.rules, [kind]: list } };
}

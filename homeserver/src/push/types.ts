// Shapes of push rules, their conditions and actions, as clients see them.
// Spec: client-server-api/modules/push.md "Push Rules"; data/api/client-server/
// definitions/push_rule.yaml, push_condition.yaml, push_ruleset.yaml.

/** The kinds, in the order rules are checked. */
export const RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const isRuleKind = (k: string): k is RuleKind => (RULE_KINDS as readonly string[]).includes(k);

/** A condition; unknown kinds are kept as given (and never match). */
export interface PushCondition {
  kind: string;
  key?: string;
  pattern?: string;
  is?: string;
  value?: unknown;
  [extra: string]: unknown;
}

/** `"notify"`, or an object such as `{ set_tweak: "sound", value: "default" }`. */
export type PushAction = string | { [key: string]: unknown };

/** A rule as stored for a user (server-default rules are built, never stored). */
export interface PushRule {
  rule_id: string;
  enabled: boolean;
  actions: PushAction[];
  /** override and underride only. */
  conditions?: PushCondition[];
  /** content only. */
  pattern?: string;
}

/** A rule as the API returns it. */
export interface ApiPushRule extends PushRule {
  default: boolean;
}

export type Ruleset = Record<RuleKind, ApiPushRule[]>;

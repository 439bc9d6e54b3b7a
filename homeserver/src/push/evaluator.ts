// Which rule of a user's ruleset an event matches first, and what that means.
// Spec: client-server-api/modules/push.md "Push Rules" (kinds checked override →
// content → room → sender → underride, first match wins, disabled rules never match),
// "Conditions", "Actions"; mentions.md (legacy body rules yield to `m.mentions`).
import { interpretActions } from './actions.js';
import { conditionMatches, type EvalContext, type PushEvent } from './conditions.js';
import { LEGACY_MENTION_RULES } from './defaultRules.js';
import { globMatches } from './glob.js';
import { RULE_KINDS, type ApiPushRule, type PushAction, type RuleKind, type Ruleset } from './types.js';

export type { EvalContext, PushEvent } from './conditions.js';

export interface Evaluation {
  notify: boolean;
  highlight: boolean;
  sound?: string;
  /** The rule that matched, or null when none did (no notification). */
  ruleId: string | null;
  actions: PushAction[];
  tweaks: Record<string, unknown>;
}

const NO_MATCH: Evaluation = Object.freeze({ notify: false, highlight: false, ruleId: null, actions: [], tweaks: {} }) as Evaluation;

export function evaluate(ruleset: Ruleset, event: PushEvent, ctx: EvalContext): Evaluation {
  const content = event.content as Record<string, unknown> | undefined;
  const hasMentions = typeof content?.['m.mentions'] === 'object' && content['m.mentions'] !== null;
  for (const kind of RULE_KINDS) {
    for (const rule of ruleset[kind]) {
      if (!rule.enabled) continue;
      if (hasMentions && rule.default && LEGACY_MENTION_RULES.has(rule.rule_id)) continue;
      if (!ruleMatches(kind, rule, event, ctx)) continue;
      return { ...interpretActions(rule.actions), ruleId: rule.rule_id, actions: rule.actions };
    }
  }
  return NO_MATCH;
}

function ruleMatches(kind: RuleKind, rule: ApiPushRule, event: PushEvent, ctx: EvalContext): boolean {
  switch (kind) {
    case 'override':
    case 'underride':
      // A rule without conditions matches every event.
      return (rule.conditions ?? []).every((c) => conditionMatches(c, event, ctx));
    case 'content': {
      const body = (event.content as Record<string, unknown> | undefined)?.body;
      return typeof rule.pattern === 'string' && typeof body === 'string' && globMatches(rule.pattern, body, true);
    }
    case 'room':
      return event.room_id === rule.rule_id;
    case 'sender':
      return event.sender === rule.rule_id;
  }
}

/** Whether any enabled rule uses a condition kind (to skip costly context, e.g. display names). */
export function usesCondition(ruleset: Ruleset, kind: string): boolean {
  return RULE_KINDS.some((k) => ruleset[k].some((r) => r.enabled && r.conditions?.some((c) => c.kind === kind)));
}

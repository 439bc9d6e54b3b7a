// One evaluation per event for every recipient whose push rules are the server defaults,
// unchanged (most users): their rulesets differ only in the conditions that name the user
// — `.m.rule.invite_for_me` (state_key is the user) and `.m.rule.is_user_mention` (the user
// is in `m.mentions.user_ids`). Evaluating the defaults once for a user ID that matches
// neither gives every default user's result, except for a user whom the event names in
// one of those two ways: that user is evaluated with their own rules. The legacy mention
// rules (display name, localpart in the body) name users in ways this cannot see, so with
// them every user is evaluated separately. Spec: client-server-api/modules/push.md
// "Predefined Rules".
import type { DefaultRuleOptions } from './defaultRules.js';
import { evaluate, usesCondition, type EvalContext, type Evaluation, type PushEvent } from './evaluator.js';
import { buildRuleset, emptyStoredRules } from './ruleset.js';
import type { Ruleset } from './types.js';

/** No user ID equals this (a user ID has a non-empty localpart and a server name). */
const NOBODY = '@:';

export interface SharedResult {
  /** What the defaults give a user the event does not name. */
  result: Evaluation;
  /** Whether the event names the user (then evaluate the user's own rules). */
  names(userId: string): boolean;
  /** Every user the event names that way. */
  named: ReadonlySet<string>;
}

export class SharedEvaluator {
  private readonly template: Ruleset;
  private readonly applies: boolean;

  constructor(defaults: DefaultRuleOptions = {}) {
    this.template = buildRuleset(emptyStoredRules(), NOBODY, defaults);
    this.applies = !usesCondition(this.template, 'contains_display_name') && this.template.content.length === 0;
  }

  /** undefined when users must be evaluated one by one (legacy mention rules). */
  evaluate(event: PushEvent, ctx: Omit<EvalContext, 'userId' | 'displayName'>): SharedResult | undefined {
    if (!this.applies) return undefined;
    const stateKey = event.state_key;
    const mentioned = mentionedUsers(event);
    // An event crafted to name the placeholder itself would make its result everyone's.
    if (stateKey === NOBODY || mentioned.has(NOBODY)) return undefined;
    const result = evaluate(this.template, event, { ...ctx, userId: NOBODY });
    const named = new Set(mentioned);
    if (typeof stateKey === 'string') named.add(stateKey);
    return { result, names: (userId) => named.has(userId), named };
  }
}

/** `content.m.mentions.user_ids` as a set (what `.m.rule.is_user_mention` looks at). */
function mentionedUsers(event: PushEvent): Set<string> {
  const mentions = (event.content as Record<string, unknown> | undefined)?.['m.mentions'];
  const ids = typeof mentions === 'object' && mentions !== null ? (mentions as Record<string, unknown>).user_ids : undefined;
  return new Set(Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []);
}

// The server-default push rules for one user, in the spec's order.
// Spec: client-server-api/modules/push.md "Predefined Rules" (v1.18). The legacy
// body-mention rules (.m.rule.contains_display_name, .m.rule.roomnotif,
// .m.rule.contains_user_name) were removed in v1.17 (MSC4210); they can be turned back
// on with `legacyMentions` for servers whose clients do not send `m.mentions` yet.
import type { ApiPushRule, PushAction, PushCondition, RuleKind } from './types.js';

export interface DefaultRuleOptions {
  legacyMentions?: boolean;
}

/** The legacy mention rules, skipped for events that carry `m.mentions` (MSC3952). */
export const LEGACY_MENTION_RULES: ReadonlySet<string> = new Set([
  '.m.rule.contains_display_name',
  '.m.rule.roomnotif',
  '.m.rule.contains_user_name',
]);

const NOTIFY = 'notify';
const sound = (value: string): PushAction => ({ set_tweak: 'sound', value });
const HIGHLIGHT: PushAction = { set_tweak: 'highlight' };
const match = (key: string, pattern: string): PushCondition => ({ kind: 'event_match', key, pattern });
const memberCount = (is: string): PushCondition => ({ kind: 'room_member_count', is });

function rule(rule_id: string, conditions: PushCondition[], actions: PushAction[], enabled = true): ApiPushRule {
  return { rule_id, default: true, enabled, conditions, actions };
}

export interface DefaultRules {
  /** `.m.rule.master`: above every user rule. */
  master: ApiPushRule;
  /** The rest of each kind, below that kind's user rules. */
  byKind: Record<RuleKind, ApiPushRule[]>;
}

export function defaultRules(userId: string, opts: DefaultRuleOptions = {}): DefaultRules {
  const legacy = opts.legacyMentions === true;
  const localpart = userId.slice(1, userId.indexOf(':') < 0 ? undefined : userId.indexOf(':'));
  const override: ApiPushRule[] = [
    rule('.m.rule.suppress_notices', [match('content.msgtype', 'm.notice')], []),
    rule(
      '.m.rule.invite_for_me',
      [match('type', 'm.room.member'), match('content.membership', 'invite'), match('state_key', userId)],
      [NOTIFY, sound('default')],
    ),
    rule('.m.rule.member_event', [match('type', 'm.room.member')], []),
    rule(
      '.m.rule.is_user_mention',
      [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
      [NOTIFY, sound('default'), HIGHLIGHT],
    ),
    ...(legacy ? [rule('.m.rule.contains_display_name', [{ kind: 'contains_display_name' }], [NOTIFY, sound('default'), HIGHLIGHT])] : []),
    rule(
      '.m.rule.is_room_mention',
      [
        { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
        { kind: 'sender_notification_permission', key: 'room' },
      ],
      [NOTIFY, HIGHLIGHT],
    ),
    ...(legacy
      ? [
          rule(
            '.m.rule.roomnotif',
            [match('content.body', '@room'), { kind: 'sender_notification_permission', key: 'room' }],
            [NOTIFY, HIGHLIGHT],
          ),
        ]
      : []),
    rule('.m.rule.tombstone', [match('type', 'm.room.tombstone'), match('state_key', '')], [NOTIFY, HIGHLIGHT]),
    rule('.m.rule.reaction', [match('type', 'm.reaction')], []),
    rule('.m.rule.room.server_acl', [match('type', 'm.room.server_acl'), match('state_key', '')], []),
    rule('.m.rule.suppress_edits', [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }], []),
  ];
  const content: ApiPushRule[] = legacy
    ? [{ rule_id: '.m.rule.contains_user_name', default: true, enabled: true, pattern: localpart, actions: [NOTIFY, sound('default'), HIGHLIGHT] }]
    : [];
  const underride: ApiPushRule[] = [
    rule('.m.rule.call', [match('type', 'm.call.invite')], [NOTIFY, sound('ring')]),
    rule('.m.rule.encrypted_room_one_to_one', [memberCount('2'), match('type', 'm.room.encrypted')], [NOTIFY, sound('default')]),
    rule('.m.rule.room_one_to_one', [memberCount('2'), match('type', 'm.room.message')], [NOTIFY, sound('default')]),
    rule('.m.rule.message', [match('type', 'm.room.message')], [NOTIFY]),
    rule('.m.rule.encrypted', [match('type', 'm.room.encrypted')], [NOTIFY]),
  ];
  return {
    master: rule('.m.rule.master', [], [], false),
    byKind: { override, content, room: [], sender: [], underride },
  };
}

// Push rules. Spec: client-server-api/modules/push.md "Push Rules: API";
// data/api/client-server/pushrules.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { PushRulesService } from '../../push/pushRulesService.js';

const action = z.union([z.string(), z.record(z.string(), z.unknown())]);
// Conditions of unknown kinds are accepted: they simply never match (push.md "Conditions").
const condition = z.looseObject({ kind: z.string() });

const ruleBody = z.looseObject({
  actions: z.array(action),
  conditions: z.array(condition).optional(),
  pattern: z.string().optional(),
});
const placeQuery = z.looseObject({ before: z.string().optional(), after: z.string().optional() });
const enabledBody = z.looseObject({ enabled: z.boolean() });
const actionsBody = z.looseObject({ actions: z.array(action) });

const RULE = '/_matrix/client/v3/pushrules/global/{kind}/{ruleId}';
const SPEC = 'client-server-api/_index.md';

export function pushRuleRoutes(deps: { rules: PushRulesService }) {
  const { rules } = deps;
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/',
      auth: 'user',
      spec: `${SPEC}#get_matrixclientv3pushrules`,
      async handler(ctx) {
        return ok(await rules.content(requesterOf(ctx).userId));
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/global/',
      auth: 'user',
      spec: `${SPEC}#get_matrixclientv3pushrulesglobal`,
      async handler(ctx) {
        return ok(await rules.ruleset(requesterOf(ctx).userId));
      },
    }),
    route({
      method: 'GET',
      path: RULE,
      auth: 'user',
      spec: `${SPEC}#get_matrixclientv3pushrulesglobalkindruleid`,
      async handler(ctx) {
        return ok(await rules.getRule(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId));
      },
    }),
    route({
      method: 'PUT',
      path: RULE,
      auth: 'user',
      rateLimit: 'general',
      body: ruleBody,
      query: placeQuery,
      spec: `${SPEC}#put_matrixclientv3pushrulesglobalkindruleid`,
      async handler(ctx) {
        const { before, after } = ctx.query;
        await rules.putRule(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId, ctx.body, { before, after });
        return ok({});
      },
    }),
    route({
      method: 'DELETE',
      path: RULE,
      auth: 'user',
      spec: `${SPEC}#delete_matrixclientv3pushrulesglobalkindruleid`,
      async handler(ctx) {
        await rules.deleteRule(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: `${RULE}/enabled`,
      auth: 'user',
      spec: `${SPEC}#get_matrixclientv3pushrulesglobalkindruleidenabled`,
      async handler(ctx) {
        const rule = await rules.getRule(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId);
        return ok({ enabled: rule.enabled });
      },
    }),
    route({
      method: 'PUT',
      path: `${RULE}/enabled`,
      auth: 'user',
      rateLimit: 'general',
      body: enabledBody,
      spec: `${SPEC}#put_matrixclientv3pushrulesglobalkindruleidenabled`,
      async handler(ctx) {
        await rules.setEnabled(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId, ctx.body.enabled);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: `${RULE}/actions`,
      auth: 'user',
      spec: `${SPEC}#get_matrixclientv3pushrulesglobalkindruleidactions`,
      async handler(ctx) {
        const rule = await rules.getRule(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId);
        return ok({ actions: rule.actions });
      },
    }),
    route({
      method: 'PUT',
      path: `${RULE}/actions`,
      auth: 'user',
      rateLimit: 'general',
      body: actionsBody,
      spec: `${SPEC}#put_matrixclientv3pushrulesglobalkindruleidactions`,
      async handler(ctx) {
        await rules.setActions(requesterOf(ctx).userId, ctx.params.kind, ctx.params.ruleId, ctx.body.actions);
        return ok({});
      },
    }),
  ];
}

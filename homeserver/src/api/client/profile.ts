// Profiles: displayname and avatar_url. Spec: client-server-api/_index.md "Profiles"; profile.yaml.
import { isValidUserId } from '@parley/federation/core/ids';
import { z } from 'zod';
import { invalidParam, missingParam } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { ProfileField, ProfileService } from '../../users/profiles.js';

export interface ProfileDeps {
  profiles: Pick<ProfileService, 'publicProfile' | 'field' | 'setField'>;
}

function checkedUserId(userId: string): string {
  if (!isValidUserId(userId)) throw invalidParam('Invalid user ID');
  return userId;
}

export function profileRoutes(deps: ProfileDeps) {
  const { profiles } = deps;

  const fieldRoutes = (field: ProfileField) => [
    route({
      method: 'GET',
      path: `/_matrix/client/v3/profile/{userId}/${field}`,
      auth: 'optional',
      spec: 'client-server-api/_index.md#get_matrixclientv3profileuseridkeyname',
      async handler({ params }) {
        return ok({ [field]: await profiles.field(checkedUserId(params.userId), field) });
      },
    }),
    route({
      method: 'PUT',
      path: `/_matrix/client/v3/profile/{userId}/${field}`,
      auth: 'user',
      // The value's own checks come below, to answer with the spec's error codes.
      body: z.looseObject({ [field]: z.unknown().optional() }),
      spec: 'client-server-api/_index.md#put_matrixclientv3profileuseridkeyname',
      async handler(ctx) {
        const userId = checkedUserId(ctx.params.userId);
        const value = ctx.body[field];
        if (value === undefined) throw missingParam(`Missing key '${field}'`);
        if (typeof value !== 'string') throw invalidParam(`'${field}' must be a string`);
        await profiles.setField(requesterOf(ctx).userId, userId, field, value);
        return ok({});
      },
    }),
  ];

  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/profile/{userId}',
      auth: 'optional',
      spec: 'client-server-api/_index.md#get_matrixclientv3profileuserid',
      async handler({ params }) {
        return ok(await profiles.publicProfile(checkedUserId(params.userId)));
      },
    }),
    ...fieldRoutes('displayname'),
    ...fieldRoutes('avatar_url'),
  ];
}

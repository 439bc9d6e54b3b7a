// Queries about our users and aliases: profile and directory.
// Spec: server-server-api.md "Querying for information"; query.yaml.
import type { QueryPort } from '../ports.js';
import { fedInvalidParam, fedMissingParam, guarded } from './errors.js';
import type { FederationRoute } from './route.js';

export function queryRoutes(deps: { port: QueryPort }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/query/profile',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1queryprofile',
      handler: guarded(async (ctx) => {
        const userId = ctx.query.user_id;
        if (!userId) throw fedMissingParam('user_id is required');
        const field = ctx.query.field;
        if (field !== undefined && field !== 'displayname' && field !== 'avatar_url') throw fedInvalidParam('field must be displayname or avatar_url');
        return { body: await deps.port.profile(userId, field) };
      }),
    },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/query/directory',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1querydirectory',
      handler: guarded(async (ctx) => {
        const alias = ctx.query.room_alias;
        if (!alias) throw fedMissingParam('room_alias is required');
        return { body: await deps.port.directory(alias) };
      }),
    },
  ];
}

// Third-party identifiers (email, phone). Parley has no e-mail/SMS sending and no
// identity-server integration, and /capabilities says m.3pid_changes is disabled, so:
//  - GET /account/3pid lists none;
//  - requestToken answers the spec's M_THREEPID_MEDIUM_NOT_SUPPORTED;
//  - add, the deprecated POST /account/3pid and delete are refused as Synapse does when
//    3PID changes are disabled (400 M_FORBIDDEN);
//  - bind needs an identity server this server does not talk to (400 M_SERVER_NOT_TRUSTED,
//    the spec's code for an identity server it does not support);
//  - unbind knows no identity server the address was bound through, so the spec's answer
//    is id_server_unbind_result "no-support".
// Spec: client-server-api/_index.md "Adding Account Administrative Contact Information",
// "m.3pid_changes capability"; data/api/client-server/administrative_contact.yaml.
import { z } from 'zod';
import { MatrixError } from '../../http/errors.js';
import { ok, route } from '../../http/route.js';

const spec = (op: string) => `client-server-api/_index.md#${op}`;
const threepidsDisabled = () => new MatrixError(400, 'M_FORBIDDEN', '3PID changes are disabled on this server');
const mediumNotSupported = (medium: string) =>
  new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', `Adding ${medium} to an account is not supported on this server`);
const medium = z.enum(['email', 'msisdn']);

export function threepidRoutes() {
  const p = '/_matrix/client/v3/account/3pid';
  return [
    route({ method: 'GET', path: p, auth: 'user', spec: spec('get_matrixclientv3account3pid'), handler: () => ok({ threepids: [] }) }),
    route({
      method: 'POST',
      path: p,
      auth: 'user',
      body: z.looseObject({ three_pid_creds: z.looseObject({}).optional() }),
      spec: spec('post_matrixclientv3account3pid'),
      handler: () => {
        throw threepidsDisabled();
      },
    }),
    route({
      method: 'POST',
      path: `${p}/add`,
      auth: 'user',
      body: z.looseObject({ client_secret: z.string(), sid: z.string() }),
      spec: spec('post_matrixclientv3account3pidadd'),
      handler: () => {
        throw threepidsDisabled();
      },
    }),
    route({
      method: 'POST',
      path: `${p}/delete`,
      auth: 'user',
      body: z.looseObject({ medium, address: z.string(), id_server: z.string().optional() }),
      spec: spec('post_matrixclientv3account3piddelete'),
      handler: () => {
        throw threepidsDisabled();
      },
    }),
    route({
      method: 'POST',
      path: `${p}/bind`,
      auth: 'user',
      body: z.looseObject({ client_secret: z.string(), id_server: z.string(), id_access_token: z.string(), sid: z.string() }),
      spec: spec('post_matrixclientv3account3pidbind'),
      handler: () => {
        throw new MatrixError(400, 'M_SERVER_NOT_TRUSTED', 'This server does not bind identifiers through identity servers');
      },
    }),
    route({
      method: 'POST',
      path: `${p}/unbind`,
      auth: 'user',
      body: z.looseObject({ medium, address: z.string(), id_server: z.string().optional() }),
      spec: spec('post_matrixclientv3account3pidunbind'),
      handler: () => ok({ id_server_unbind_result: 'no-support' }),
    }),
    route({
      method: 'POST',
      path: `${p}/email/requestToken`,
      auth: 'none',
      body: z.looseObject({ client_secret: z.string(), email: z.string(), send_attempt: z.number().int() }),
      spec: spec('post_matrixclientv3account3pidemailrequesttoken'),
      handler: () => {
        throw mediumNotSupported('email addresses');
      },
    }),
    route({
      method: 'POST',
      path: `${p}/msisdn/requestToken`,
      auth: 'none',
      body: z.looseObject({ client_secret: z.string(), country: z.string(), phone_number: z.string(), send_attempt: z.number().int() }),
      spec: spec('post_matrixclientv3account3pidmsisdnrequesttoken'),
      handler: () => {
        throw mediumNotSupported('phone numbers');
      },
    }),
  ];
}

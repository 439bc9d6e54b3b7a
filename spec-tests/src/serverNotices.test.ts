// Server notices (client-server-api/modules/server_notices.md) against the real server: an admin
// sends a notice with Synapse's admin API and the user's matrix-js-sdk client sees it in a room
// tagged m.server_notice, whose invite cannot be rejected.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { registerAdmin } from './harness/admin.js';
import { startedClient } from './harness/client.js';
import { writeConfigFile } from './harness/configFile.js';
import { useServer } from './harness/hooks.js';
import { expectError, expectOk, rawRequest, registerUser, sync } from './harness/http.js';
import { uniq } from './harness/util.js';

const SECRET = 'spec-notices-secret-' + uniq();
const configFile = writeConfigFile({
  server_notices: { system_mxid_localpart: 'notices', system_mxid_display_name: 'Server Notices', room_name: 'Server Notices' },
});

describe('server notices', () => {
  const ctx = useServer({ registrationSharedSecret: SECRET, extraArgs: configFile.args });
  after(() => configFile.remove());

  it('should deliver a notice to the user in /sync in a room tagged m.server_notice', async (t) => {
    const admin = await registerAdmin(ctx.server, SECRET);
    const user = await registerUser(ctx.server, uniq('member'));
    const system = `@notices:${ctx.server.serverName}`;
    const sent = expectOk(
      await rawRequest(ctx.server, 'POST', '/_synapse/admin/v1/send_server_notice', {
        token: admin.token,
        body: { user_id: user.userId, content: { msgtype: 'm.server_notice', body: 'Scheduled maintenance at 22:00 UTC' } },
      }),
      'send_server_notice',
    );
    assert.equal(typeof sent.event_id, 'string');

    // Raw /sync: an invite from the system user.
    const body = await sync(ctx.server, user);
    const invited = Object.keys(body.rooms?.invite ?? {});
    assert.equal(invited.length, 1, `one invite: ${JSON.stringify(body.rooms)}`);
    const roomId = invited[0]!;
    const member = body.rooms.invite[roomId].invite_state.events.find((e: { type: string; state_key: string }) => e.type === 'm.room.member' && e.state_key === user.userId);
    assert.equal(member.sender, system);

    const tc = await startedClient(t, ctx.server, user);
    const room = await tc.waitForRoom(roomId, 'the notices invite', (r) => r.getMyMembership() === 'invite');
    assert.equal(room.name, 'Server Notices');
    await assert.rejects(tc.client.leave(roomId), (err: { errcode?: string; httpStatus?: number }) => {
      assert.equal(err.errcode, 'M_CANNOT_LEAVE_SERVER_NOTICE_ROOM');
      assert.equal(err.httpStatus, 403);
      return true;
    });

    await tc.client.joinRoom(roomId);
    const notice = await tc.waitForEvent(roomId, 'the notice', (e) => e.getId() === sent.event_id);
    assert.equal(notice.getSender(), system);
    assert.equal(notice.getContent().msgtype, 'm.server_notice');
    assert.equal(notice.getContent().body, 'Scheduled maintenance at 22:00 UTC');
    await tc.waitFor('the m.server_notice tag', () => tc.client.getRoom(roomId)?.tags['m.server_notice'] !== undefined);

    // A normal user cannot send notices.
    expectError(
      await rawRequest(ctx.server, 'POST', '/_synapse/admin/v1/send_server_notice', {
        token: user.accessToken,
        body: { user_id: user.userId, content: { msgtype: 'm.server_notice', body: 'forged' } },
      }),
      403,
      'M_FORBIDDEN',
      'a normal user sending a notice',
    );
  });
});

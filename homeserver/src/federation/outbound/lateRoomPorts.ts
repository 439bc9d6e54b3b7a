// The rooms service is built before federation (whose joiner needs the rooms' ingest), so
// it gets these stand-ins, bound once federation exists. Unbound (federation disabled),
// they answer as a server without federation: unknown rooms and remote aliases are 404.
import { notFound } from '../../http/errors.js';
import type { Pdu, RoomEvent } from '@parley/federation/core/types';
import type { RemoteAliasResolver, RemoteInviter, RemoteJoiner, RemoteKnocker, RemoteLeaver } from '../../rooms/ports.js';

export class LateRoomPorts implements RemoteJoiner, RemoteKnocker, RemoteLeaver, RemoteAliasResolver, RemoteInviter {
  private joiner: RemoteJoiner | undefined;
  private knocker: RemoteKnocker | undefined;
  private leaver: RemoteLeaver | undefined;
  private inviter: RemoteInviter | undefined;
  private aliases: RemoteAliasResolver | undefined;

  bindJoiner(joiner: RemoteJoiner): void {
    this.joiner = joiner;
  }

  bindKnocker(knocker: RemoteKnocker): void {
    this.knocker = knocker;
  }

  bindLeaver(leaver: RemoteLeaver): void {
    this.leaver = leaver;
  }

  bindAliases(aliases: RemoteAliasResolver): void {
    this.aliases = aliases;
  }

  bindInviter(inviter: RemoteInviter): void {
    this.inviter = inviter;
  }

  /** Unbound: invites of remote users are written locally only, as before federation. */
  get enabled(): boolean {
    return this.inviter?.enabled === true;
  }

  invite(roomVersion: string, event: RoomEvent, inviteRoomState: Pdu[]): Promise<RoomEvent> {
    if (!this.inviter) return Promise.reject(new Error('remote invites are not enabled'));
    return this.inviter.invite(roomVersion, event, inviteRoomState);
  }

  joinRemote(userId: string, roomIdOrAlias: string, servers: string[], content: Record<string, unknown>): Promise<{ roomId: string }> {
    if (!this.joiner) return Promise.reject(notFound(`Room ${roomIdOrAlias} is not known to this server`));
    return this.joiner.joinRemote(userId, roomIdOrAlias, servers, content);
  }

  knockRemote(userId: string, roomIdOrAlias: string, servers: string[], content: Record<string, unknown>): Promise<{ roomId: string }> {
    if (!this.knocker) return Promise.reject(notFound(`Room ${roomIdOrAlias} is not known to this server`));
    return this.knocker.knockRemote(userId, roomIdOrAlias, servers, content);
  }

  leaveRemote(userId: string, roomId: string, membershipEventId: string, content: Record<string, unknown>): Promise<{ eventId: string }> {
    if (!this.leaver) return Promise.reject(notFound(`Room ${roomId} is not known to this server`));
    return this.leaver.leaveRemote(userId, roomId, membershipEventId, content);
  }

  async resolve(alias: string): Promise<{ room_id: string; servers: string[] } | undefined> {
    return this.aliases?.resolve(alias);
  }
}

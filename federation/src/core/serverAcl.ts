// Server ACLs (m.room.server_acl): may a server take part in a room?
// Spec: client-server-api/modules/server_acls.md; event-schemas m.room.server_acl
// (case-insensitive globs over the server name without its port; allow defaults to
// nobody, deny to nobody, allow_ip_literals to true); appendices.md "Glob-style matching".
import { parseServerName } from './ids.js';

/** Whether `serverName` may participate under ACL `content` (undefined: no ACL in the room, everyone may). */
export function serverAllowedByAcl(serverName: string, content: Record<string, unknown> | undefined): boolean {
  if (content === undefined) return true;
  const parsed = parseServerName(serverName);
  if (parsed === undefined) return false;
  const host = parsed.host.toLowerCase();
  const isIpLiteral = parsed.kind !== 'dns';
  if (content.allow_ip_literals === false && isIpLiteral) return false;
  // IPv6 literals are matched as written in server names, with their brackets.
  const name = parsed.kind === 'ipv6' ? `[${host}]` : host;
  if (globList(content.deny).some((g) => g.test(name))) return false;
  return globList(content.allow).some((g) => g.test(name));
}

function globList(v: unknown): RegExp[] {
  if (!Array.isArray(v)) return [];
  return v.filter((g): g is string => typeof g === 'string').map(globToRegExp);
}

/** `*` any run of characters, `?` one character; everything else literal; whole-string, case-insensitive. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'is');
}

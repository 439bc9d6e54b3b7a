// Which servers and IP addresses we may send requests to. Server-name globs are
// checked before resolution; IP ranges after DNS, on the address we then connect to,
// so a name that re-resolves to a private address (DNS rebinding) is still refused.
import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Ranges a public deployment must not reach (Synapse's default ip_range_blacklist):
 * loopback, private, CGNAT, link-local, documentation, multicast, unique-local.
 */
export const DEFAULT_IP_RANGE_BLOCKLIST: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '192.0.0.0/24',
  '169.254.0.0/16',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '::1/128',
  'fe80::/10',
  'fc00::/7',
  '2001:db8::/32',
  'ff00::/8',
  'fec0::/10',
];

/** Unspecified addresses reach the local host on Linux; always refused unless allowlisted (as in Synapse). */
const ALWAYS_BLOCKED = ['0.0.0.0/32', '::/128'];

export interface OutboundPolicyConfig {
  /** If set, only server names matching one of these globs (`*`, `?`) are contacted. */
  serverNameAllowlist?: readonly string[];
  /** Server names matching these globs are never contacted. */
  serverNameDenylist?: readonly string[];
  /** CIDRs never connected to. Default: DEFAULT_IP_RANGE_BLOCKLIST. Internal deployments set `[]`. */
  ipRangeBlocklist?: readonly string[];
  /** CIDRs allowed even inside the blocklist, e.g. the organisation's own `10.20.0.0/16`. */
  ipRangeAllowlist?: readonly string[];
}

export class OutboundPolicy {
  private readonly allowNames: RegExp[] | undefined;
  private readonly denyNames: RegExp[];
  private readonly blocked: BlockList;
  private readonly allowed: BlockList;

  constructor(config: OutboundPolicyConfig = {}) {
    this.allowNames = config.serverNameAllowlist?.map(globToRegExp);
    this.denyNames = (config.serverNameDenylist ?? []).map(globToRegExp);
    this.blocked = toBlockList([...(config.ipRangeBlocklist ?? DEFAULT_IP_RANGE_BLOCKLIST), ...ALWAYS_BLOCKED]);
    this.allowed = toBlockList(config.ipRangeAllowlist ?? []);
  }

  /**
   * Whether we may contact `serverName`. A glob is matched against the whole name
   * and, when the name has a port, against the host alone (so `*.corp` covers `a.corp:8448`).
   */
  serverNameAllowed(serverName: string): boolean {
    const candidates = [serverName.toLowerCase()];
    const host = hostOf(serverName);
    if (host !== serverName) candidates.push(host.toLowerCase());
    const matches = (res: RegExp[]) => res.some((re) => candidates.some((c) => re.test(c)));
    if (matches(this.denyNames)) return false;
    return this.allowNames === undefined || matches(this.allowNames);
  }

  /** Whether we may connect to `ip`. IPv4-mapped IPv6 addresses are judged as the IPv4 address. */
  ipAllowed(ip: string): boolean {
    const addr = normalizeIp(ip);
    if (addr === undefined) return false;
    if (this.allowed.check(addr.address, addr.family)) return true;
    return !this.blocked.check(addr.address, addr.family);
  }
}

/** `::ffff:a.b.c.d` and `::ffff:7f00:1` → `a.b.c.d`; zone IDs dropped; undefined if not an IP. */
export function normalizeIp(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  let s = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const v = isIP(s);
  if (v === 4) return { address: s, family: 'ipv4' };
  if (v !== 6) return undefined;
  const mapped = ipv4Mapped(s);
  return mapped !== undefined ? { address: mapped, family: 'ipv4' } : { address: s.toLowerCase(), family: 'ipv6' };
}

function ipv4Mapped(v6: string): string | undefined {
  const words = expandIpv6(v6);
  if (words === undefined) return undefined;
  if (words.slice(0, 5).some((w) => w !== 0) || words[5] !== 0xffff) return undefined;
  return [words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff].join('.');
}

/** The eight 16-bit words of a (valid) IPv6 address, dotted-quad tail included. */
function expandIpv6(s: string): number[] | undefined {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const b = tail.split('.').map(Number);
    text = text.slice(0, lastColon + 1) + ((b[0] << 8) | b[1]).toString(16) + ':' + ((b[2] << 8) | b[3]).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((w) => parseInt(w, 16)));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

function toBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const addr = normalizeIp(slash < 0 ? cidr : cidr.slice(0, slash));
    if (addr === undefined) throw new Error(`not an IP range: ${cidr}`);
    const max = addr.family === 'ipv4' ? 32 : 128;
    let prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max + 96) throw new Error(`bad prefix length: ${cidr}`);
    // An IPv4-mapped range written in IPv6 (`::ffff:10.0.0.0/104`) becomes the IPv4 range.
    if (addr.family === 'ipv4' && isIP(cidr.slice(0, slash < 0 ? undefined : slash)) === 6) prefix = Math.max(0, prefix - 96);
    else if (prefix > max) throw new Error(`bad prefix length: ${cidr}`);
    list.addSubnet(addr.address, prefix, addr.family);
  }
  return list;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp('^' + body + '$');
}

/** The host part of a server name (IPv6 literals keep their brackets). */
function hostOf(serverName: string): string {
  if (serverName.startsWith('[')) {
    const close = serverName.indexOf(']');
    return close < 0 ? serverName : serverName.slice(0, close + 1);
  }
  const colon = serverName.indexOf(':');
  return colon < 0 ? serverName : serverName.slice(0, colon);
}

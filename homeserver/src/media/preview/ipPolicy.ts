// Which IP addresses the URL previewer may connect to. Everything that is not on the
// public Internet is refused by default (as Synapse's recommended
// url_preview_ip_range_blacklist); the config can add ranges to refuse, and allow
// specific ranges back (url_preview_ip_range_whitelist), e.g. an intranet wiki.
// IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged
// by the IPv4 address inside.
import { BlockList, isIP } from 'node:net';

const DEFAULT_BLOCKED = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local (cloud metadata endpoints live here)
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the broadcast address
  '::/128',
  '::1/128',
  '100::/64', // discard
  '2001:db8::/32',
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
];

export class IpPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  /** Throws on a malformed range, naming it (called at start-up with the config). */
  constructor(opts: { blacklist?: readonly string[]; whitelist?: readonly string[] } = {}) {
    for (const r of [...DEFAULT_BLOCKED, ...(opts.blacklist ?? [])]) addRange(this.blocked, r);
    for (const r of opts.whitelist ?? []) addRange(this.allowed, r);
  }

  /** Whether the previewer may connect to this address. */
  allows(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(address, type)) return true;
    if (this.blocked.check(address, type)) return false;
    const inner = family === 6 ? embeddedIpv4(address) : undefined;
    if (inner !== undefined) return this.allows(inner);
    return true;
  }
}

function addRange(list: BlockList, range: string): void {
  const [addr, bits] = range.split('/');
  const family = isIP(addr);
  if (family === 0) throw new Error(`not an IP range: ${range}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`bad prefix length in ${range}`);
  list.addSubnet(addr, prefix, type);
}

/** The IPv4 address an IPv6 address carries, for the well-known embeddings. */
export function embeddedIpv4(v6: string): string | undefined {
  const words = expandIpv6(v6);
  if (!words) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
  if (zero(0, 5) && (words[5] === 0xffff || words[5] === 0) && !(words[5] === 0 && words[6] === 0)) return v4(words[6], words[7]);
  // 64:ff9b::a.b.c.d (NAT64) and 64:ff9b:1::/48 (local-use NAT64)
  if (words[0] === 0x64 && words[1] === 0xff9b) return v4(words[6], words[7]);
  // 2002:aabb:ccdd::/48 (6to4)
  if (words[0] === 0x2002) return v4(words[1], words[2]);
  return undefined;
}

/** Eight 16-bit words of an IPv6 address (zone and dotted IPv4 tail allowed). */
function expandIpv6(addr: string): number[] | undefined {
  let a = addr.split('%')[0].toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number);
    a = a.slice(0, dotted.index) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const words = [...head, ...Array<number>(fill).fill(0), ...tail];
  return words.some((w) => Number.isNaN(w) || w < 0 || w > 0xffff) ? undefined : words;
}

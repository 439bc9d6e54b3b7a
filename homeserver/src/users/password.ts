// Password hashing with scrypt, a memory-hard KDF. The encoded hash carries its
// own salt and cost parameters, so the cost can be raised later without breaking
// old hashes. node:crypto's async scrypt runs on the libuv thread pool, keeping
// the event loop free while a hash is computed.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** About 32 MiB and some tens of milliseconds per hash on current hardware. */
export const DEFAULT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };

const KEY_LEN = 32;
const SALT_LEN = 16;
const PREFIX = 'scrypt';

/** Longest password accepted anywhere (as Synapse). */
export const MAX_PASSWORD_LENGTH = 512;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const opts: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    // NFKC so that the same password typed on different keyboards matches (as Synapse).
    scrypt(password.normalize('NFKC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly cost: ScryptCost = DEFAULT_COST) {}

  /** `scrypt$N$r$p$<salt b64>$<hash b64>` */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LEN);
    const key = await derive(password, salt, this.cost);
    const { N, r, p } = this.cost;
    return [PREFIX, N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    const parts = encoded.split('$');
    if (parts.length !== 6 || parts[0] !== PREFIX) return false;
    const [N, r, p] = parts.slice(1, 4).map(Number);
    if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
    const want = Buffer.from(parts[5], 'base64');
    const got = await derive(password, Buffer.from(parts[4], 'base64'), { N, r, p });
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /**
   * Spend as long as a real verification, for users without a password hash, so
   * that response times do not tell which user names exist.
   */
  async verifyNothing(password: string): Promise<false> {
    this.dummy ??= this.hash('parley-timing-equaliser');
    await this.verify(password, await this.dummy);
    return false;
  }
}

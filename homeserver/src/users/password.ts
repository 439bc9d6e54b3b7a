// Password hashing with scrypt, a memory-hard KDF. The encoded hash carries its
// own salt and cost parameters, so the cost can be raised later without breaking
// old hashes. node:crypto's async scrypt runs on the libuv thread pool, keeping
// the event loop free while a hash is computed; that pool (4 threads) is LevelDB's too,
// so only a few hashes run at once and the rest queue (a burst of registrations or
// logins must not stall every database read behind it).
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

/** Hashes computed at once by default: half of libuv's default pool. */
export const DEFAULT_MAX_CONCURRENT = 2;

/** Log2 of N → the cost used for new hashes (r and p as the default). */
export const costOfLogN = (logN: number): ScryptCost => ({ ...DEFAULT_COST, N: 2 ** logN });

/** The accounts module's hashing options from the config's `password_hashing` section. */
export function hashingOptions(cfg: { scrypt_log_n: number; max_concurrent: number }): { scryptCost: ScryptCost; maxConcurrentHashes: number } {
  return { scryptCost: costOfLogN(cfg.scrypt_log_n), maxConcurrentHashes: cfg.max_concurrent };
}

export class PasswordHasher {
  private dummy: Promise<string> | undefined;
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly cost: ScryptCost = DEFAULT_COST,
    private readonly maxConcurrent = DEFAULT_MAX_CONCURRENT,
  ) {}

  /** `derive` with at most `maxConcurrent` in flight, first come first served. */
  private async limited(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    try {
      return await derive(password, salt, cost);
    } finally {
      // Hand the slot straight to the next waiter (running stays the same) or free it.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** `scrypt$N$r$p$<salt b64>$<hash b64>` */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LEN);
    const key = await this.limited(password, salt, this.cost);
    const { N, r, p } = this.cost;
    return [PREFIX, N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    const parts = encoded.split('$');
    if (parts.length !== 6 || parts[0] !== PREFIX) return false;
    const [N, r, p] = parts.slice(1, 4).map(Number);
    if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
    const want = Buffer.from(parts[5], 'base64');
    const got = await this.limited(password, Buffer.from(parts[4], 'base64'), { N, r, p });
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

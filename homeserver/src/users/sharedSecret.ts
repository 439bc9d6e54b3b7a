// Synapse-compatible shared-secret registration (`/_synapse/admin/v1/register`),
// used by provisioning scripts and tools such as `register_new_matrix_user`:
// the client fetches a single-use nonce, then proves knowledge of the shared
// secret with an HMAC-SHA1 over nonce, user name, password and admin flag.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a nonce stays usable (Synapse: one minute; a little longer here for slow typists). */
export const NONCE_TTL_MS = 5 * 60 * 1000;
const MAX_NONCES = 10_000;

export interface MacFields {
  nonce: string;
  username: string;
  password: string;
  admin: boolean;
  /** Newer Synapse clients append a user type when they send one. */
  userType?: string;
}

/** hex HMAC-SHA1(secret, nonce \0 username \0 password \0 ("admin" | "notadmin") [\0 user_type]). */
export function registrationMac(secret: string, f: MacFields): string {
  const h = createHmac('sha1', Buffer.from(secret, 'utf8'))
    .update(f.nonce)
    .update('\0')
    .update(f.username)
    .update('\0')
    .update(f.password)
    .update('\0')
    .update(f.admin ? 'admin' : 'notadmin');
  if (f.userType) h.update('\0').update(f.userType);
  return h.digest('hex');
}

/** Constant-time comparison of the client's MAC with the expected one. */
export function macMatches(secret: string, fields: MacFields, mac: string): boolean {
  const want = Buffer.from(registrationMac(secret, fields), 'utf8');
  const got = Buffer.from(mac.toLowerCase(), 'utf8');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Single-use nonces with an expiry, in memory (as Synapse). */
export class NonceStore {
  // Insertion order is issue order and all live equally long: the oldest come first.
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly ttlMs = NONCE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  issue(): string {
    this.sweep();
    while (this.nonces.size >= MAX_NONCES) this.nonces.delete(this.nonces.keys().next().value!);
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, this.now() + this.ttlMs);
    return nonce;
  }

  /** True once per issued, unexpired nonce; the nonce is spent whatever happens next. */
  consume(nonce: string): boolean {
    this.sweep();
    return this.nonces.delete(nonce);
  }

  private sweep(): void {
    const now = this.now();
    for (const [n, expires] of this.nonces) {
      if (expires > now) break;
      this.nonces.delete(n);
    }
  }
}

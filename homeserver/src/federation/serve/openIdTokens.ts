// OpenID tokens: a client asks for one (request_token) and hands it to a third-party service,
// which asks us (federation openid/userinfo) whose it is. Tokens are good for that only, for
// an hour (Synapse's default), and are stored hashed. Spec: client-server-api/_index.md
// "OpenID"; server-server-api.md "OpenID".
import { createHash, randomBytes } from 'node:crypto';
import type { OpenIdRepo } from '../../storage/openIdRepo.js';

export const OPENID_TOKEN_LIFETIME_MS = 60 * 60_000;

export interface OpenIdToken {
  access_token: string;
  token_type: 'Bearer';
  matrix_server_name: string;
  expires_in: number;
}

export class OpenIdTokens {
  private readonly now: () => number;

  constructor(
    private readonly d: { repo: Pick<OpenIdRepo, 'get' | 'put' | 'delete'>; serverName: string; lifetimeMs?: number; now?: () => number },
  ) {
    this.now = d.now ?? Date.now;
  }

  /** A new token for `userId`, durable before it is returned. */
  async issue(userId: string): Promise<OpenIdToken> {
    const token = randomBytes(24).toString('base64url');
    const lifetime = this.d.lifetimeMs ?? OPENID_TOKEN_LIFETIME_MS;
    await this.d.repo.put(hash(token), { userId, expiresTs: this.now() + lifetime });
    return { access_token: token, token_type: 'Bearer', matrix_server_name: this.d.serverName, expires_in: Math.floor(lifetime / 1000) };
  }

  /** The user the token was issued to; undefined when unknown or expired (expired ones are deleted). */
  async userOf(token: string): Promise<string | undefined> {
    const h = hash(token);
    const rec = await this.d.repo.get(h);
    if (!rec) return undefined;
    if (rec.expiresTs <= this.now()) {
      await this.d.repo.delete([h]);
      return undefined;
    }
    return rec.userId;
  }
}

const hash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

// OpenID tokens (POST /user/{userId}/openid/request_token), stored by the SHA-256 of the
// token so that a copy of the database does not hand out working tokens.
// Layout: schema.ts tokenhash_openid.
import { strKey, type Database } from './db.js';

export interface OpenIdTokenRecord {
  userId: string;
  expiresTs: number;
}

export class OpenIdRepo {
  constructor(private readonly db: Database) {}

  get(tokenHash: string): Promise<OpenIdTokenRecord | undefined> {
    return this.db.get<OpenIdTokenRecord>('tokenhash_openid', strKey(tokenHash));
  }

  async put(tokenHash: string, record: OpenIdTokenRecord): Promise<void> {
    await this.db.write([this.db.put('tokenhash_openid', strKey(tokenHash), record)]);
  }

  async delete(tokenHashes: string[]): Promise<void> {
    await this.db.write(tokenHashes.map((h) => this.db.del('tokenhash_openid', strKey(h))));
  }
}

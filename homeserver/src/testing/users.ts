// Test support: a token → user map standing in for the accounts service.
import type { Authenticator } from '../http/app.js';
import type { Requester } from '../http/route.js';

export interface TestUser extends Requester {
  token: string;
}

export interface TestUserOptions {
  deviceId?: string;
  admin?: boolean;
  /** Defaults to `tok-<localpart>`. */
  token?: string;
}

export class TestUsers implements Authenticator {
  private readonly byToken = new Map<string, TestUser>();

  constructor(private readonly serverName: string) {}

  /** A user of this server whose token is accepted from now on. */
  add(localpart: string, opts: TestUserOptions = {}): TestUser {
    const u: TestUser = {
      userId: `@${localpart}:${this.serverName}`,
      deviceId: opts.deviceId ?? 'DEV',
      isAdmin: opts.admin ?? false,
      token: opts.token ?? `tok-${localpart}`,
    };
    this.byToken.set(u.token, u);
    return u;
  }

  async authenticate(token: string): Promise<Requester | undefined> {
    return this.byToken.get(token);
  }
}

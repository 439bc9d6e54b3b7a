// Registration tokens: admin management (Synapse's registration tokens admin API) and
// their use as the m.login.registration_token UIA stage of /register.
// Spec: client-server-api/_index.md "Token-authenticated registration"; registration_tokens.yaml.
//
// Counting follows Synapse: a token is "pending" for every live UIA session that passed the
// stage with it, and "completed" once such a session finished a registration. A token is
// valid while it has not expired and pending + completed < uses_allowed. Pending counts live
// in memory, like the UIA sessions they belong to; `completed` is written in the same batch
// as the new account (see complete()).
import { randomInt } from 'node:crypto';
import { badJson, invalidParam, missingParam, notFound } from '../http/errors.js';
import type { StageResult, UiaSession, UiaStage } from '../auth/uia.js';
import type { BatchOp } from '../storage/db.js';
import type { RegistrationTokenRecord, RegistrationTokensRepo } from '../storage/registrationTokensRepo.js';
import { KeyedLock } from '../util/keyedLock.js';

export const REGISTRATION_TOKEN = 'm.login.registration_token';

/** The token grammar Synapse accepts (the spec's opaque identifier grammar), at most 64 characters. */
const TOKEN_RE = /^[A-Za-z0-9._~-]{1,64}$/;
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-';
const DEFAULT_LENGTH = 16;

/** A token as the admin API shows it. */
export interface RegistrationTokenInfo {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

export interface NewTokenOptions {
  token?: string;
  uses_allowed?: number | null;
  expiry_time?: number | null;
  length?: number;
}

export class RegistrationTokens {
  private readonly locks = new KeyedLock();
  /** token → UIA session ID → when that session expires. */
  private readonly holds = new Map<string, Map<string, number>>();

  constructor(
    private readonly repo: RegistrationTokensRepo,
    private readonly now: () => number = Date.now,
  ) {}

  // ── admin API ──────────────────────────────────────────────────────────────

  async list(valid?: boolean): Promise<RegistrationTokenInfo[]> {
    const rows = await this.repo.all();
    const infos = rows.map(({ token, record }) => this.info(token, record));
    return valid === undefined ? infos : infos.filter((i) => this.isValid(i) === valid);
  }

  async get(token: string): Promise<RegistrationTokenInfo> {
    const record = await this.repo.get(token);
    if (!record) throw notFound(`No such registration token: ${token}`);
    return this.info(token, record);
  }

  async create(opts: NewTokenOptions): Promise<RegistrationTokenInfo> {
    checkUses(opts.uses_allowed);
    this.checkExpiry(opts.expiry_time);
    if (opts.token !== undefined && !TOKEN_RE.test(opts.token)) {
      throw invalidParam('token must consist only of characters matched by the regex [A-Za-z0-9._~-] and be at most 64 characters');
    }
    const length = opts.length ?? DEFAULT_LENGTH;
    if (opts.token === undefined && (!Number.isInteger(length) || length < 1 || length > 64)) {
      throw invalidParam('length must be an integer between 1 and 64');
    }
    const record: RegistrationTokenRecord = { uses_allowed: opts.uses_allowed ?? null, completed: 0, expiry_time: opts.expiry_time ?? null };
    for (;;) {
      const token = opts.token ?? randomToken(length);
      const created = await this.locks.run(token, async () => {
        if (await this.repo.get(token)) return false;
        await this.repo.write([this.repo.put(token, record)]);
        return true;
      });
      if (created) return this.info(token, record);
      // A chosen token that exists is an error; a random one that collides is drawn again.
      if (opts.token !== undefined) throw invalidParam(`Token already exists: ${token}`);
    }
  }

  async update(token: string, changes: { uses_allowed?: number | null; expiry_time?: number | null }): Promise<RegistrationTokenInfo> {
    checkUses(changes.uses_allowed);
    this.checkExpiry(changes.expiry_time);
    return this.locks.run(token, async () => {
      const record = await this.repo.get(token);
      if (!record) throw notFound(`No such registration token: ${token}`);
      const next: RegistrationTokenRecord = { ...record };
      if (changes.uses_allowed !== undefined) next.uses_allowed = changes.uses_allowed;
      if (changes.expiry_time !== undefined) next.expiry_time = changes.expiry_time;
      await this.repo.write([this.repo.put(token, next)]);
      return this.info(token, next);
    });
  }

  async delete(token: string): Promise<void> {
    await this.locks.run(token, async () => {
      if (!(await this.repo.get(token))) throw notFound(`No such registration token: ${token}`);
      await this.repo.write([this.repo.del(token)]);
      this.holds.delete(token);
    });
  }

  // ── registration ───────────────────────────────────────────────────────────

  /** GET /register/m.login.registration_token/validity. */
  async validity(token: string): Promise<boolean> {
    const record = TOKEN_RE.test(token) ? await this.repo.get(token) : undefined;
    return record !== undefined && this.isValid(this.info(token, record));
  }

  /** The UIA stage: a valid token becomes pending for the session. */
  stage(): UiaStage {
    return {
      type: REGISTRATION_TOKEN,
      check: async (auth, session) => {
        const token = auth.token;
        if (token === undefined) throw missingParam("Missing parameter 'token'");
        if (typeof token !== 'string') throw badJson("'token' must be a string");
        return this.hold(token, session);
      },
    };
  }

  /**
   * Finish a registration authorised by `token` in `sessionId`: `register` gets the batch
   * operations that count the use, to write them with the new account. The session's
   * pending use ends once the registration is written.
   */
  async complete<T>(token: string, sessionId: string, register: (ops: BatchOp[]) => Promise<T>): Promise<T> {
    return this.locks.run(token, async () => {
      const record = await this.repo.get(token);
      // A token deleted meanwhile still lets this session finish: it was valid when checked.
      const ops = record ? [this.repo.put(token, { ...record, completed: record.completed + 1 })] : [];
      const result = await register(ops);
      this.holds.get(token)?.delete(sessionId);
      return result;
    });
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private async hold(token: string, session: UiaSession): Promise<StageResult> {
    const invalid: StageResult = { ok: false, errcode: 'M_UNAUTHORIZED', error: 'Invalid registration token' };
    if (!TOKEN_RE.test(token)) return invalid;
    return this.locks.run(token, async () => {
      const record = await this.repo.get(token);
      if (!record || !this.isValid(this.info(token, record))) return invalid;
      const sessions = this.holds.get(token) ?? new Map<string, number>();
      sessions.set(session.id, session.expiresAt);
      this.holds.set(token, sessions);
      session.data.registrationToken = token;
      return { ok: true };
    });
  }

  /** Live sessions holding the token (expired ones are dropped here, as Synapse drops them with the session). */
  private pending(token: string): number {
    const sessions = this.holds.get(token);
    if (!sessions) return 0;
    const now = this.now();
    for (const [id, expiresAt] of sessions) if (expiresAt <= now) sessions.delete(id);
    if (sessions.size === 0) this.holds.delete(token);
    return sessions.size;
  }

  private info(token: string, record: RegistrationTokenRecord): RegistrationTokenInfo {
    return { token, uses_allowed: record.uses_allowed, pending: this.pending(token), completed: record.completed, expiry_time: record.expiry_time };
  }

  private isValid(i: RegistrationTokenInfo): boolean {
    if (i.expiry_time !== null && i.expiry_time < this.now()) return false;
    return i.uses_allowed === null || i.pending + i.completed < i.uses_allowed;
  }

  private checkExpiry(expiry: number | null | undefined): void {
    if (expiry === undefined || expiry === null) return;
    if (!Number.isInteger(expiry)) throw invalidParam('expiry_time must be an integer');
    if (expiry < this.now()) throw invalidParam('expiry_time must not be in the past');
  }
}

function checkUses(uses: number | null | undefined): void {
  if (uses !== undefined && uses !== null && (!Number.isInteger(uses) || uses < 0)) {
    throw invalidParam('uses_allowed must be a non-negative integer or null');
  }
}

function randomToken(length: number): string {
  let t = '';
  for (let i = 0; i < length; i++) t += TOKEN_CHARS[randomInt(TOKEN_CHARS.length)];
  return t;
}

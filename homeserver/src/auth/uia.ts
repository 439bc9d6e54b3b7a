// User-Interactive Authentication: an endpoint offers flows of stages; the
// client completes the stages of one flow, in order, within a session that the
// server names in its 401 answers.
// Spec: client-server-api/_index.md "User-Interactive Authentication API".
//
// Sessions live in memory for a limited time. A session is bound to the request
// that started it (method and path, as Synapse) and to the user who started it,
// so a completed session cannot authorise a different operation or account.
import { randomBytes } from 'node:crypto';
import { MatrixError, badJson, forbidden, unknown } from '../http/errors.js';

export interface UiaFlow {
  stages: string[];
}

export interface UiaSession {
  readonly id: string;
  readonly flows: UiaFlow[];
  /** `METHOD /path` of the request that started the session. */
  readonly binding: string;
  /** The authenticated user who started it (undefined for registration). */
  readonly userId: string | undefined;
  readonly completed: string[];
  readonly expiresAt: number;
  /** Endpoint data kept across the session's requests (e.g. the user a registration created). */
  readonly data: Record<string, unknown>;
}

export type StageResult = { ok: true } | { ok: false; errcode: string; error: string };

/** One auth type. `check` may throw a MatrixError for a malformed auth dict (answered as is, not as 401). */
export interface UiaStage {
  readonly type: string;
  check(auth: Record<string, unknown>, session: UiaSession): Promise<StageResult>;
}

/** The 401 answer: flows, params, session, completed — and errcode/error when a stage just failed. */
export class UiaChallenge extends MatrixError {
  constructor(
    readonly body: { flows: UiaFlow[]; params: Record<string, unknown>; session: string; completed?: string[] },
    failure?: { errcode: string; error: string },
  ) {
    super(401, failure?.errcode ?? '', failure?.error ?? 'Additional authentication is required');
    this.failed = failure !== undefined;
  }

  readonly failed: boolean;

  override toJSON(): Record<string, unknown> {
    return this.failed ? { errcode: this.errcode, error: this.message, ...this.body } : { ...this.body };
  }
}

export interface UiaRequest {
  flows: UiaFlow[];
  /** `METHOD /path` of this request. */
  binding: string;
  /** The requester, for endpoints that need an access token. */
  userId?: string;
  /** The request body's `auth` (undefined or null when absent). */
  auth: unknown;
}

interface MutableSession extends UiaSession {
  completed: string[];
}

const DEFAULT_TTL_MS = 60 * 60 * 1000;
const DEFAULT_MAX_SESSIONS = 10_000;

export class UserInteractiveAuth {
  private readonly stages: Map<string, UiaStage>;
  // Insertion order is creation order, and every session lives equally long, so the oldest come first.
  private readonly sessions = new Map<string, MutableSession>();
  private readonly ttlMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(stages: UiaStage[], opts: { ttlMs?: number; maxSessions?: number; now?: () => number } = {}) {
    this.stages = new Map(stages.map((s) => [s.type, s]));
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Returns the session once every stage of one flow is complete; otherwise
   * throws the 401 UiaChallenge (or a 4xx MatrixError for a malformed request).
   * A completed session stays valid for further requests of the same operation
   * until it expires, so a client that lost the response can retry.
   */
  async authenticate(req: UiaRequest): Promise<UiaSession> {
    const auth = req.auth ?? undefined;
    if (auth !== undefined && (typeof auth !== 'object' || Array.isArray(auth))) throw badJson("'auth' must be an object");
    const dict = auth as Record<string, unknown> | undefined;
    const sessionId = dict?.session;
    if (sessionId !== undefined && typeof sessionId !== 'string') throw badJson("'auth.session' must be a string");

    const session = sessionId !== undefined ? this.existing(sessionId, req) : this.create(req);
    if (!dict) throw this.challenge(session, false);

    const type = dict.type;
    if (type !== undefined && typeof type !== 'string') throw badJson("'auth.type' must be a string");
    // A dict with only the session asks "is it done?" (stages completed out of band).
    if (type !== undefined && !session.completed.includes(type)) {
      const failure = await this.attempt(session, type, dict);
      if (failure) throw this.challenge(session, true, failure);
    }
    if (this.isComplete(session)) return session;
    throw this.challenge(session, true);
  }

  private async attempt(session: MutableSession, type: string, dict: Record<string, unknown>): Promise<StageResult & { ok: false } | undefined> {
    const offered = session.flows.some((f) => f.stages.includes(type));
    const stage = this.stages.get(type);
    if (!offered || !stage) return { ok: false, errcode: 'M_UNRECOGNIZED', error: `Auth type ${type} is not offered here` };
    // Stages are completed in order: the type must come next in some flow that matches what is done.
    const next = session.flows.some((f) => session.completed.every((c, i) => f.stages[i] === c) && f.stages[session.completed.length] === type);
    if (!next) return { ok: false, errcode: 'M_FORBIDDEN', error: `Auth type ${type} is out of order` };
    const result = await stage.check(dict, session);
    if (!result.ok) return result;
    session.completed.push(type);
    return undefined;
  }

  private isComplete(session: UiaSession): boolean {
    return session.flows.some((f) => f.stages.length === session.completed.length && f.stages.every((s, i) => session.completed[i] === s));
  }

  private challenge(session: UiaSession, withCompleted: boolean, failure?: { errcode: string; error: string }): UiaChallenge {
    return new UiaChallenge(
      {
        flows: session.flows.map((f) => ({ stages: [...f.stages] })),
        params: {},
        session: session.id,
        ...(withCompleted ? { completed: [...session.completed] } : {}),
      },
      failure,
    );
  }

  private existing(id: string, req: UiaRequest): MutableSession {
    this.sweep();
    const s = this.sessions.get(id);
    if (!s) throw unknown('Unknown or expired authentication session');
    if (s.binding !== req.binding) throw forbidden('Requested operation has changed during the UI authentication session');
    if (s.userId !== req.userId) throw forbidden('This authentication session belongs to another user');
    return s;
  }

  private create(req: UiaRequest): MutableSession {
    this.sweep();
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    const s: MutableSession = {
      id: randomBytes(18).toString('base64url'),
      flows: req.flows.map((f) => ({ stages: [...f.stages] })),
      binding: req.binding,
      userId: req.userId,
      completed: [],
      expiresAt: this.now() + this.ttlMs,
      data: {},
    };
    this.sessions.set(s.id, s);
    return s;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) {
      if (s.expiresAt > now) break;
      this.sessions.delete(id);
    }
  }
}

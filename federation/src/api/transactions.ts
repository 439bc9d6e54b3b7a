// PUT /_matrix/federation/v1/send/{txnId}: a transaction of PDUs and EDUs from `origin`.
// At most 50 PDUs and 100 EDUs (else 400); a retried transaction (same origin and txnId)
// gets the first answer without being processed again; one result per PDU; a rejected
// PDU never fails the request. With a durable answer store, the answer is written in the same
// atomic write as the transaction's last PDUs when the port can (ingestPdusKeepingAnswer).
// Spec: server-server-api.md "Transactions", "Rejection"; transactions.yaml.
import type { JsonObject } from '../core/types.js';
import type { Edu, InboundTransactionPort, TransactionResultStore } from '../ports.js';
import { FederationError, guarded, isObject, originOf } from './errors.js';
import type { FederationReply, FederationRoute } from './route.js';

export const MAX_TXN_PDUS = 50;
export const MAX_TXN_EDUS = 100;
/** Transactions whose answers are remembered in memory for retries. */
const REMEMBERED_TXNS = 10_000;
/** How long stored answers are kept (Synapse keeps received transactions for a day). */
export const TXN_RESULT_RETENTION_MS = 24 * 60 * 60_000;
/** Stored answers are pruned every this many transactions. */
const PRUNE_EVERY = 1000;

export function transactionRoutes(deps: { port: InboundTransactionPort; results?: TransactionResultStore; now?: () => number }): FederationRoute[] {
  // origin + txnId → the (pending or settled) answer, in memory; with `results` also durably,
  // so a retry after a restart is not processed again either.
  const answers = new Map<string, Promise<FederationReply>>();
  const now = deps.now ?? Date.now;
  let sincePrune = 0;

  // The answer, and whether it may be remembered (not after a failed write: a retry must ingest again).
  const answerOf = async (origin: string, txnId: string, body: Record<string, unknown>): Promise<{ reply: FederationReply; keep: boolean }> => {
    const stored = await deps.results?.get(origin, txnId);
    if (stored) return { reply: { body: stored }, keep: true };
    const { reply, kept } = await process(origin, txnId, body);
    if (deps.results) {
      if (kept === 'separate') await deps.results.put(origin, txnId, reply.body as JsonObject, now());
      if (++sincePrune >= PRUNE_EVERY) {
        sincePrune = 0;
        void deps.results.prune(now() - TXN_RESULT_RETENTION_MS).catch(() => undefined);
      }
    }
    return { reply, keep: kept !== 'unkept' };
  };

  const process = async (origin: string, txnId: string, body: Record<string, unknown>): Promise<{ reply: FederationReply; kept: 'stored' | 'separate' | 'unkept' }> => {
    const pdus = body.pdus as unknown[];
    const edus = (body.edus ?? []) as unknown[];
    let edusDone = false;
    const edusHandled = deps.port
      .handleEdus(origin, edus.filter((e): e is Edu => isObject(e) && typeof e.edu_type === 'string' && isObject(e.content)))
      .then(() => void (edusDone = true));
    // With a durable store, the answer goes into the PDUs' last write — only once the EDUs are
    // handled too, since a retry answered from the store does not see them again.
    const [{ results, kept }] = await Promise.all([
      deps.results && deps.port.ingestPdusKeepingAnswer
        ? deps.port.ingestPdusKeepingAnswer(origin, pdus, { txnId, ts: now(), answer: (r) => (edusDone ? answerBody(r) : undefined) })
        : deps.port.ingestPdus(origin, pdus).then((r) => ({ results: r, kept: 'separate' as const })),
      edusHandled,
    ]);
    return { reply: { body: answerBody(results) }, kept };
  };

  return [
    {
      method: 'PUT',
      path: '/_matrix/federation/v1/send/{txnId}',
      auth: 'server',
      spec: 'server-server-api.md#put_matrixfederationv1sendtxnid',
      // 50 PDUs of up to 64 KiB plus EDUs.
      maxBodyBytes: 8 * 1024 * 1024,
      handler: guarded(async (ctx) => {
        const origin = originOf(ctx);
        const body = ctx.body;
        if (!isObject(body) || !Array.isArray(body.pdus)) throw new FederationError(400, 'M_BAD_JSON', 'pdus must be an array');
        if (body.edus !== undefined && !Array.isArray(body.edus)) throw new FederationError(400, 'M_BAD_JSON', 'edus must be an array');
        if (body.pdus.length > MAX_TXN_PDUS || ((body.edus as unknown[] | undefined)?.length ?? 0) > MAX_TXN_EDUS) {
          throw new FederationError(400, 'M_BAD_JSON', `A transaction carries at most ${MAX_TXN_PDUS} PDUs and ${MAX_TXN_EDUS} EDUs`);
        }
        const key = `${origin}\u0000${ctx.params.txnId}`;
        let answer = answers.get(key);
        if (!answer) {
          const pending: Promise<FederationReply> = answerOf(origin, ctx.params.txnId, body).then(({ reply, keep }) => {
            if (!keep && answers.get(key) === pending) answers.delete(key);
            return reply;
          });
          answer = pending;
          answers.set(key, answer);
          answer.catch(() => answers.delete(key));
          if (answers.size > REMEMBERED_TXNS) answers.delete(answers.keys().next().value as string);
        }
        return answer;
      }),
    },
  ];
}

/** The answer's body: a result per PDU (`{}` or `{error}`). */
function answerBody(results: ReadonlyMap<string, { error?: string }>): JsonObject {
  const out: Record<string, { error?: string }> = {};
  for (const [id, r] of results) out[id] = r.error === undefined ? {} : { error: r.error };
  return { pdus: out };
}

// InboundTransactionPort: PDUs to the ingest; EDUs to the services that own them.
// EDUs are best-effort: one that is malformed, about a user of another server, or for a
// room whose ACL denies the origin is dropped without failing the transaction.
// Spec: server-server-api.md "EDUs", "Typing Notifications", "Receipts", "Presence",
// "Server Access Control Lists (ACLs)" (typing and receipts per room).
import { serverNameOf } from '@parley/federation/core/ids';
import { serverAllowedByAcl } from '@parley/federation/core/serverAcl';
import type { AnswerToKeep, Edu, InboundTransactionPort } from '@parley/federation/ports';
import type { RoomReader } from '../../rooms/types.js';
import type { TxnResultsRepo } from '../../storage/txnResultsRepo.js';
import type { RemoteIngest } from '../ingest/remoteIngest.js';

/** Where each kind of EDU goes. Absent handlers mean the EDU type is accepted and ignored. */
export interface EduSinks {
  typing?(roomId: string, userId: string, typing: boolean, timeoutMs: number | undefined): Promise<void>;
  receipt?(roomId: string, receiptType: string, userId: string, eventId: string, threadId: string | undefined): Promise<void>;
  /** Any other EDU type (m.presence, m.device_list_update, m.signing_key_update, m.direct_to_device …). */
  other?(origin: string, edu: Edu): Promise<void>;
}

export class TransactionAdapter implements InboundTransactionPort {
  constructor(
    private readonly deps: {
      ingest: Pick<RemoteIngest, 'ingestPdus'>;
      reader: Pick<RoomReader, 'currentStateEvent'>;
      sinks: EduSinks;
      /** Where /send answers are kept: written in the batch of the transaction's last PDUs. */
      answers?: Pick<TxnResultsRepo, 'stage'>;
      onWarning?: (msg: string, extra: Record<string, unknown>) => void;
    },
  ) {}

  ingestPdus(origin: string, pdus: unknown[]): Promise<Map<string, { error?: string }>> {
    return this.deps.ingest.ingestPdus(origin, pdus);
  }

  async ingestPdusKeepingAnswer(origin: string, pdus: unknown[], keep: AnswerToKeep): Promise<{ results: Map<string, { error?: string }>; kept: 'stored' | 'separate' | 'unkept' }> {
    const { answers } = this.deps;
    if (!answers) return { results: await this.ingestPdus(origin, pdus), kept: 'separate' };
    let stored = false;
    let failed = false;
    const results = await this.deps.ingest.ingestPdus(origin, pdus, {
      stage: (all, batch) => {
        // After a failure the answer is not kept anywhere: a retry must be ingested again.
        const answer = failed ? undefined : keep.answer(all);
        if (answer === undefined) return;
        answers.stage(batch, origin, keep.txnId, answer, keep.ts);
        batch.afterCommit(() => void (stored = true));
      },
      failed: () => void (failed = true),
    });
    return { results, kept: failed ? 'unkept' : stored ? 'stored' : 'separate' };
  }

  async handleEdus(origin: string, edus: Edu[]): Promise<void> {
    for (const edu of edus) {
      try {
        await this.handleEdu(origin, edu);
      } catch (err) {
        this.deps.onWarning?.('EDU dropped', { origin, type: edu.edu_type, err: String(err) });
      }
    }
  }

  private async handleEdu(origin: string, edu: Edu): Promise<void> {
    const { sinks } = this.deps;
    const c = edu.content as Record<string, unknown>;
    switch (edu.edu_type) {
      case 'm.typing': {
        const { room_id: roomId, user_id: userId, typing } = c;
        if (typeof roomId !== 'string' || typeof userId !== 'string' || typeof typing !== 'boolean') return;
        if (serverNameOf(userId) !== origin || !(await this.aclAllows(origin, roomId))) return;
        const timeout = typeof c.timeout === 'number' ? c.timeout : undefined;
        await sinks.typing?.(roomId, userId, typing, timeout);
        return;
      }
      case 'm.receipt': {
        for (const [roomId, byType] of Object.entries(c)) {
          if (!isObject(byType) || !(await this.aclAllows(origin, roomId))) continue;
          for (const [receiptType, byUser] of Object.entries(byType)) {
            if (!isObject(byUser)) continue;
            for (const [userId, r] of Object.entries(byUser)) {
              if (serverNameOf(userId) !== origin || !isObject(r) || !Array.isArray(r.event_ids)) continue;
              const data = isObject(r.data) ? r.data : {};
              const thread = typeof data.thread_id === 'string' ? data.thread_id : undefined;
              for (const eventId of r.event_ids) {
                if (typeof eventId !== 'string') continue;
                try {
                  await sinks.receipt?.(roomId, receiptType, userId, eventId, thread);
                } catch (err) {
                  this.deps.onWarning?.('receipt dropped', { origin, roomId, eventId, err: String(err) });
                }
              }
            }
          }
        }
        return;
      }
      default:
        await sinks.other?.(origin, edu);
    }
  }

  private async aclAllows(origin: string, roomId: string): Promise<boolean> {
    const acl = await this.deps.reader.currentStateEvent(roomId, 'm.room.server_acl', '');
    return !acl || serverAllowedByAcl(origin, acl.pdu.content);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Step 3: the event must be a well-formed PDU no larger than 64 KiB.
// Spec: client-server-api/_index.md "Size limits"; server-server-api.md "Checks performed on receipt of a PDU".
import { canonicalJson, type JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { MAX_PDU_BYTES, checkPduFormat } from '@parley/federation/core/pduFormat';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { badJson, tooLarge } from '../../http/errors.js';

export function checkFormat(pdu: Pdu, rules: RoomVersionRules): void {
  let size: number | undefined;
  try {
    size = Buffer.byteLength(canonicalJson(pdu as JsonObjectLike), 'utf8');
  } catch {
    size = undefined; // not encodable: checkPduFormat names the problem
  }
  if (size !== undefined && size > MAX_PDU_BYTES) {
    throw tooLarge(`Event is ${size} bytes; the limit is ${MAX_PDU_BYTES}`);
  }
  const problem = checkPduFormat(pdu, rules);
  if (problem !== undefined) throw badJson(`Invalid event: ${problem}`);
}

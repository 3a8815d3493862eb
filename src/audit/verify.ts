/** Walks a chain in sequence order and names the first record that does not link or hash. */
import { CreditgateError } from "../errors.js";
import { type AuditRecord, type ChainHead, emptyHead, hashRecord } from "./chain.js";

export type ChainVerification =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead }
  | {
      readonly ok: false;
      readonly count: number;
      readonly brokenSeq: number;
      readonly reason: ChainBreak;
      /** For a ledger or index mismatch: the first row that disagrees with the chain. */
      readonly row?: string;
      /** For a ledger mismatch: every tenant with a row that disagrees. */
      readonly tenants?: readonly string[];
    };

/**
 * Why verification failed: the chain itself (a gap, a broken link, a record whose hash does
 * not match), an index column that is not what the hashed data says, or a ledger row (balance,
 * grant, hold, entries) that the chain's records do not account for.
 */
export type ChainBreak =
  | "seq_gap"
  | "prev_hash_mismatch"
  | "hash_mismatch"
  | "index_mismatch"
  | "ledger_mismatch";

/** Whether `record` follows `head`: the next seq, linked to it, and hashing to what it says. */
export function linkBreak(
  head: ChainHead,
  record: AuditRecord,
): { brokenSeq: number; reason: "seq_gap" | "prev_hash_mismatch" | "hash_mismatch" } | null {
  const expectedSeq = head.seq + 1;
  if (record.seq !== expectedSeq) return { brokenSeq: expectedSeq, reason: "seq_gap" };
  if (record.prev_hash !== head.hash)
    return { brokenSeq: record.seq, reason: "prev_hash_mismatch" };
  if (hashRecord(record) !== record.hash) return { brokenSeq: record.seq, reason: "hash_mismatch" };
  return null;
}

/** Where and why a verification failed, in one line. */
export function describeBreak(result: Extract<ChainVerification, { ok: false }>): string {
  return `seq ${result.brokenSeq} (${result.reason})${result.row === undefined ? "" : `: ${result.row}`}`;
}

export async function verifyChain(
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  start: ChainHead = emptyHead,
): Promise<ChainVerification> {
  let head = start;
  let count = 0;
  for await (const record of records) {
    const broken = linkBreak(head, record);
    if (broken !== null) return { ok: false, count, ...broken };
    head = { seq: record.seq, hash: record.hash };
    count++;
  }
  return { ok: true, count, head };
}

/** For callers that must not go on with a broken chain (start-up checks, the export command). */
export function assertChainIntact(result: ChainVerification): void {
  if (result.ok) return;
  throw new CreditgateError("AUDIT_CHAIN_BROKEN", {
    message: `the audit chain is broken at ${describeBreak(result)}`,
    details: { brokenSeq: result.brokenSeq, reason: result.reason, verified: result.count },
  });
}

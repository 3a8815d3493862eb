/** Walks a chain in sequence order and names the first record that does not link or hash. */
import { type AuditRecord, type ChainHead, emptyHead, hashRecord } from "./chain.js";

export type ChainVerification =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead }
  | {
      readonly ok: false;
      readonly count: number;
      readonly brokenSeq: number;
      readonly reason: "seq_gap" | "prev_hash_mismatch" | "hash_mismatch";
    };

export async function verifyChain(
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  start: ChainHead = emptyHead,
): Promise<ChainVerification> {
  let head = start;
  let count = 0;
  for await (const record of records) {
    const expectedSeq = head.seq + 1;
    if (record.seq !== expectedSeq) {
      return { ok: false, count, brokenSeq: expectedSeq, reason: "seq_gap" };
    }
    if (record.prev_hash !== head.hash) {
      return { ok: false, count, brokenSeq: record.seq, reason: "prev_hash_mismatch" };
    }
    if (hashRecord(record) !== record.hash) {
      return { ok: false, count, brokenSeq: record.seq, reason: "hash_mismatch" };
    }
    head = { seq: record.seq, hash: record.hash };
    count++;
  }
  return { ok: true, count, head };
}

/**
 * A chain as a version-1 store wrote it (no derived columns), and the columns migration 002 must
 * derive for it: the same rule as an insert (src/audit/index-keys.ts), edge cases included.
 */
import { canonicalize } from "../../src/audit/canonical.js";
import { type AuditBody, type AuditRecord, emptyHead, linkRecord } from "../../src/audit/chain.js";
import { auditIndexKeys } from "../../src/audit/index-keys.js";

const bodies: AuditBody[] = [
  {
    at_ms: 1_000,
    kind: "decision",
    tenant: "t",
    data: { key: "d", context: { decision_id: "dec_1", principal: { id: "alice" } } },
  },
  { at_ms: 1_000, kind: "revocation", tenant: "t", data: { subject: "g", amount: 5 } },
  { at_ms: 2_000, kind: "decision", tenant: "t", data: { key: "g", context: null } },
  // Not strings: not indexed.
  {
    at_ms: 2_000,
    kind: "decision",
    tenant: "u",
    data: { key: "x", context: { decision_id: 7, principal: { id: 8 } } },
  },
  // Escapes decode; a principal that is not an object has no id.
  {
    at_ms: 3_000,
    kind: "decision",
    tenant: "u",
    data: { key: "y", context: { decision_id: 'dec_\u00e9"q\\u0000', principal: "bob" } },
  },
  // A NUL elsewhere in the record does not stop the backfill.
  {
    at_ms: 3_000,
    kind: "decision",
    tenant: "u",
    data: { key: "z\u0000", context: { principal: { id: "carol" }, note: "a\u0000b" } },
  },
  // A NUL in the value, or a value over the byte bound: not indexed.
  {
    at_ms: 4_000,
    kind: "decision",
    tenant: "u",
    data: { key: "w", context: { principal: { id: "x\u0000y" }, decision_id: "é".repeat(513) } },
  },
];

export function v1Records(): AuditRecord[] {
  const records: AuditRecord[] = [];
  let head = emptyHead;
  for (const body of bodies) {
    const record = linkRecord(head, body);
    records.push(record);
    head = { seq: record.seq, hash: record.hash };
  }
  return records;
}

/** The row values a version-1 store inserted: seq, prev_hash, hash, at_ms, kind, tenant, data. */
export function v1Row(r: AuditRecord): (string | number | null)[] {
  return [r.seq, r.prev_hash, r.hash, r.at_ms, r.kind, r.tenant, canonicalize(r.data)];
}

export const v1Expected = [
  { seq: 1, principal: "alice", decision_id: "dec_1" },
  { seq: 2, principal: null, decision_id: null },
  { seq: 3, principal: null, decision_id: null },
  { seq: 4, principal: null, decision_id: null },
  { seq: 5, principal: null, decision_id: 'dec_\u00e9"q\\u0000' },
  { seq: 6, principal: "carol", decision_id: null },
  { seq: 7, principal: null, decision_id: null },
];

/** What an insert derives for the same records: the backfill must agree with it. */
export function insertDerived(): {
  seq: number;
  principal: string | null;
  decision_id: string | null;
}[] {
  return v1Records().map((r) => {
    const keys = auditIndexKeys(r.data);
    return { seq: r.seq, principal: keys.principal, decision_id: keys.decisionId };
  });
}

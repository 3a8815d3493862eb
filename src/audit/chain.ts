/**
 * The pure hash chain: each record's hash is sha256(prev_hash + canonical(record without hash)),
 * so changing, dropping or reordering any record breaks every hash after it.
 */
import { createHash } from "node:crypto";
import { canonicalize, type JsonValue } from "./canonical.js";

export const genesisHash = "0".repeat(64);

export const auditKinds = [
  "grant",
  "activation",
  "debit",
  "hold",
  "commit",
  // Part of a hold spent without resolving it (LedgerStore.drawHold).
  "draw",
  "release",
  "expiry",
  "reversal",
  "revocation",
  // A tenant suspended or reinstated (LedgerStore.setTenantStatus).
  "tenant_status",
  "decision",
  // Service events without a ledger effect (LedgerStore.recordEvent).
  "policy",
  "auth",
] as const;
export type AuditKind = (typeof auditKinds)[number];

/** One record as stored and exported; field names are snake_case so other tools can verify. */
export interface AuditRecord {
  readonly seq: number;
  readonly prev_hash: string;
  readonly hash: string;
  readonly at_ms: number;
  readonly kind: AuditKind;
  readonly tenant: string | null;
  readonly data: { readonly [key: string]: JsonValue };
}

export type AuditBody = Omit<AuditRecord, "seq" | "prev_hash" | "hash">;

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const emptyHead: ChainHead = { seq: 0, hash: genesisHash };

export function hashRecord(record: Omit<AuditRecord, "hash">, dataText?: string): string {
  return createHash("sha256")
    .update(record.prev_hash)
    .update(canonicalBody(record, dataText))
    .digest("hex");
}

/**
 * canonicalize(record without hash), with the keys written out in their canonical order so a
 * caller that already holds canonical `data` (the text it stores) does not encode it twice.
 */
export function canonicalBody(
  record: Omit<AuditRecord, "hash">,
  dataText = canonicalize(record.data),
): string {
  const { seq, prev_hash, at_ms, kind, tenant } = record;
  return `{"at_ms":${canonicalize(at_ms)},"data":${dataText},"kind":${JSON.stringify(kind)},"prev_hash":${JSON.stringify(prev_hash)},"seq":${canonicalize(seq)},"tenant":${canonicalize(tenant)}}`;
}

/** Links `body` after `head`; the caller stores the record and moves its head to it. */
export function linkRecord(head: ChainHead, body: AuditBody, dataText?: string): AuditRecord {
  const unhashed = { ...body, seq: head.seq + 1, prev_hash: head.hash };
  return { ...unhashed, hash: hashRecord(unhashed, dataText) };
}

/** Row decoding shared by the adapters: both hand back snake_case rows with numeric columns. */
import type { AuditKind, AuditRecord } from "../audit/chain.js";
import type { GrantRow, HoldRow, TenantRow, TransferEntry } from "../ledger/rows.js";
import {
  type CreditClass,
  type Part,
  type Revocation,
  type RevocationKind,
  type TenantStatus,
  tenantStatuses,
} from "../ledger/types.js";

export type Row = Record<string, unknown>;

/** PostgreSQL returns BIGINT as text; amounts are bounded far below 2^53 (limits.ts). */
export function num(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new TypeError(`not a safe integer: ${String(value)}`);
  return n;
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

function text(value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`not text: ${String(value)}`);
  return value;
}

/** The status columns of a tenants row (status, status_at_ms, status_reason). */
export function tenantStatusFromRow(
  r: Row,
): Pick<TenantRow, "status" | "statusAtMs" | "statusReason"> {
  const status = text(r.status) as TenantStatus;
  if (!tenantStatuses.includes(status)) throw new TypeError(`unknown tenant status: ${status}`);
  return {
    status,
    statusAtMs: numOrNull(r.status_at_ms),
    statusReason:
      r.status_reason === null || r.status_reason === undefined ? null : text(r.status_reason),
  };
}

export function grantFromRow(r: Row): GrantRow {
  return {
    grantId: text(r.grant_id),
    tenant: text(r.tenant),
    class: text(r.class) as CreditClass,
    amount: num(r.amount),
    remaining: num(r.remaining),
    status: text(r.status) as GrantRow["status"],
    effectiveAtMs: num(r.effective_at_ms),
    expiresAtMs: numOrNull(r.expires_at_ms),
    priority: num(r.priority),
    source: text(r.source),
    reference: r.reference === null ? null : text(r.reference),
    createdAtMs: num(r.created_at_ms),
  };
}

export function holdFromRow(r: Row): HoldRow {
  return {
    holdId: text(r.hold_id),
    tenant: text(r.tenant),
    amount: num(r.amount),
    parts: JSON.parse(text(r.parts)) as Part[],
    drawOrder: JSON.parse(text(r.draw_order)) as CreditClass[],
    owner: r.owner === null ? null : text(r.owner),
    state: text(r.state) as HoldRow["state"],
    createdAtMs: num(r.created_at_ms),
    expiresAtMs: num(r.expires_at_ms),
    resolvedAtMs: numOrNull(r.resolved_at_ms),
    drawn: num(r.drawn),
    released: numOrNull(r.released),
  };
}

export function transferEntryFromRow(r: Row): TransferEntry {
  return {
    entryId: text(r.entry_id),
    tenant: text(r.tenant),
    class: text(r.class) as CreditClass,
    grantId: r.grant_id === null ? null : text(r.grant_id),
    transferId: text(r.transfer_id),
    kind: text(r.kind) as TransferEntry["kind"],
    amount: num(r.amount),
    refEntryId: r.ref_entry_id === null ? null : text(r.ref_entry_id),
    atMs: num(r.at_ms),
    reversed: num(r.reversed ?? 0),
  };
}

export function auditFromRow(r: Row): AuditRecord {
  return {
    seq: num(r.seq),
    prev_hash: text(r.prev_hash),
    hash: text(r.hash),
    at_ms: num(r.at_ms),
    kind: text(r.kind) as AuditKind,
    tenant: r.tenant === null ? null : text(r.tenant),
    data: JSON.parse(text(r.data)) as AuditRecord["data"],
  };
}

export function revocationFromRow(r: Row): Revocation {
  return {
    revocationId: text(r.revocation_id),
    tenant: text(r.tenant),
    kind: text(r.kind) as RevocationKind,
    subject: text(r.subject),
    reason: text(r.reason),
    atMs: num(r.at_ms),
  };
}

/** The store port: what the decision flow and the tests use; SQLite and PostgreSQL implement it. */
import type { AuditKind, AuditRecord } from "../audit/chain.js";
import type { ChainVerification } from "../audit/verify.js";
import type { OpResult } from "./codes.js";
import type {
  Balances,
  CommitRequest,
  CommitValue,
  DebitRequest,
  DebitValue,
  DecisionRequest,
  DecisionValue,
  DrawHoldRequest,
  DrawHoldValue,
  EventRequest,
  EventValue,
  GrantRequest,
  GrantValue,
  HoldRequest,
  HoldStatus,
  HoldValue,
  IdempotencyRecord,
  ReleaseRequest,
  ReleaseValue,
  ReverseRequest,
  ReverseValue,
  Revocation,
  RevocationKind,
  RevokeRequest,
  RevokeValue,
  Snapshot,
  SweepResult,
  TenantInfo,
  TenantStatusRequest,
  TenantStatusValue,
  UsageKey,
} from "./types.js";

export type { IdempotencyRecord } from "./types.js";

/** What the invariant check found; `ok` only when every list is empty. */
export interface InvariantReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/**
 * A filtered page of the audit trail. Every filter is optional and they combine with AND;
 * `principal` and `decisionId` match `data.context.principal.id` and `data.context.decision_id`
 * as stored (after masking: a masked value matches only "[masked]").
 */
export interface AuditQuery {
  readonly tenant?: string;
  readonly principal?: string;
  readonly decisionId?: string;
  readonly kind?: AuditKind;
  /** Inclusive lower bound on `at_ms`. */
  readonly fromMs?: number;
  /** Exclusive upper bound on `at_ms`. */
  readonly toMs?: number;
  /** Only records with seq > afterSeq (the previous page's `nextAfterSeq`); default 0. */
  readonly afterSeq?: number;
  /** Records wanted, ≥ 1; capped at `limits.auditQueryRecordsMax`. */
  readonly limit: number;
}

export interface AuditPage {
  /** In ascending seq. */
  readonly records: readonly AuditRecord[];
  /** The last record's seq when the page is full (there may be more), else null. */
  readonly nextAfterSeq: number | null;
}

export interface LedgerStore {
  grant(req: GrantRequest): Promise<OpResult<GrantValue>>;
  debit(req: DebitRequest): Promise<OpResult<DebitValue>>;
  hold(req: HoldRequest): Promise<OpResult<HoldValue>>;
  /**
   * Spends part of an active hold without resolving it: debit entries from the hold's reserved
   * parts, in its part order; the hold stays active with less reserved. A later commit, release
   * or expiry settles only what is left. Reversing a draw refunds to the balance, not the hold.
   */
  drawHold(req: DrawHoldRequest): Promise<OpResult<DrawHoldValue>>;
  commit(req: CommitRequest): Promise<OpResult<CommitValue>>;
  release(req: ReleaseRequest): Promise<OpResult<ReleaseValue>>;
  reverse(req: ReverseRequest): Promise<OpResult<ReverseValue>>;
  revoke(req: RevokeRequest): Promise<OpResult<RevokeValue>>;
  /**
   * Suspends or reinstates a tenant (idempotent by key, audited as `tenant_status` in the same
   * transaction). The status is part of every `snapshot`, so it holds from the next decision on,
   * on every instance sharing the store.
   */
  setTenantStatus(req: TenantStatusRequest): Promise<OpResult<TenantStatusValue>>;
  /** Audit-only: a deny, or a decision without a ledger effect. */
  recordDecision(req: DecisionRequest): Promise<OpResult<DecisionValue>>;
  /**
   * Appends a service event (kind "policy" or "auth") through the same group-commit write path:
   * durable, chained, batched. No idempotency key: each call appends one record. Too-large or
   * non-canonical data is a TypeError and nothing is written.
   */
  recordEvent(req: EventRequest): Promise<EventValue>;

  /** Current balances, after lazily applying activations and expiries due now. */
  balances(tenant: string): Promise<Balances>;
  /**
   * A hold of this tenant as it stands now (null: unknown, or another tenant's), after applying
   * a due expiry like `balances` does (read path first, the write path only if something is due).
   */
  holdStatus(tenant: string, holdId: string): Promise<HoldStatus | null>;
  /** Balances as they were at `atMs` (≤ now), from entries and hold history. */
  balancesAt(tenant: string, atMs: number): Promise<Balances>;
  /** A tenant's status, when it last changed and why (an unknown tenant is active). */
  tenantInfo(tenant: string): Promise<TenantInfo>;
  /**
   * Balances, usage counters and the tenant's status for building a policy input, read in one
   * transaction.
   */
  snapshot(tenant: string, usage: readonly UsageKey[], idempotencyKey?: string): Promise<Snapshot>;
  /**
   * The operations recorded under these idempotency keys of a tenant (missing keys are absent):
   * how a retried decision finds what it did the first time.
   */
  idempotencyRecords(
    tenant: string,
    keys: readonly string[],
  ): Promise<ReadonlyMap<string, IdempotencyRecord>>;
  /** Applies due activations and expiries for up to `limit` tenants. */
  sweep(limit?: number): Promise<SweepResult>;

  revocations(query: {
    tenant: string;
    kind?: RevocationKind;
    subject?: string;
  }): Promise<Revocation[]>;

  /** Audit records with seq > afterSeq, in order, at most `limit`. */
  auditRecords(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Filtered, paginated audit records, index-backed (see `AuditQuery`). */
  queryAudit(filter: AuditQuery): Promise<AuditPage>;
  verifyAudit(): Promise<ChainVerification>;
  /** JSON Lines, one canonical record per line. */
  exportAudit(write: (line: string) => void | Promise<void>): Promise<number>;

  /** Every stored balance equals its entries, holds and grants agree, the chain verifies. */
  checkInvariants(): Promise<InvariantReport>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** Rows the engine reads from and writes to a store, independent of the SQL dialect. */
import type { AuditRecord, ChainHead } from "../audit/chain.js";
import type { AuditIndexKeys } from "../audit/index-keys.js";
import type {
  CreditClass,
  Part,
  Revocation,
  TenantStatus,
  UsageCounter,
  UsageKey,
  UsageWindow,
} from "./types.js";

export type GrantStatus = "pending" | "active" | "expired";
export type HoldState = "active" | "committed" | "released" | "expired";
export type EntryKind = "grant" | "debit" | "commit" | "expiry" | "reversal";

export interface GrantRow {
  readonly grantId: string;
  readonly tenant: string;
  readonly class: CreditClass;
  readonly amount: number;
  remaining: number;
  status: GrantStatus;
  readonly effectiveAtMs: number;
  readonly expiresAtMs: number | null;
  readonly priority: number;
  readonly source: string;
  readonly reference: string | null;
  readonly createdAtMs: number;
}

export interface HoldRow {
  readonly holdId: string;
  readonly tenant: string;
  readonly amount: number;
  readonly parts: readonly Part[];
  readonly drawOrder: readonly CreditClass[];
  /** The principal key that placed it; null: no owner (also every hold before schema version 4). */
  readonly owner: string | null;
  state: HoldState;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  resolvedAtMs: number | null;
  /** Spent by draws; the hold reserves the parts left after splitting off `drawn`. */
  drawn: number;
  /**
   * Given back when resolved (null while active; also null for a hold committed before schema
   * version 3, which did not record it).
   */
  released: number | null;
}

/** One draw from a hold: its transfer's entries sum to −amount. Never updated. */
export interface HoldDrawRow {
  readonly transferId: string;
  readonly holdId: string;
  readonly tenant: string;
  readonly amount: number;
  readonly atMs: number;
}

/** Signed: credits in are positive, debits, commits and expiries negative. Never updated. */
export interface EntryRow {
  readonly entryId: string;
  readonly tenant: string;
  readonly class: CreditClass;
  readonly grantId: string | null;
  readonly transferId: string;
  readonly kind: EntryKind;
  readonly amount: number;
  readonly refEntryId: string | null;
  readonly atMs: number;
}

/** An entry of a debit or commit transfer, with how much of it was reversed so far. */
export interface TransferEntry extends EntryRow {
  reversed: number;
}

export interface TenantRow {
  readonly tenant: string;
  readonly nextHoldExpiryAtMs: number | null;
  readonly status: TenantStatus;
  /** When the status last changed, and why; both null if it never did. */
  readonly statusAtMs: number | null;
  readonly statusReason: string | null;
  readonly posted: Readonly<Record<CreditClass, number>>;
  readonly held: Readonly<Record<CreditClass, number>>;
}

export interface IdempotencyRow {
  readonly tenant: string;
  readonly key: string;
  readonly op: string;
  readonly fingerprint: string;
  /** The original result value as JSON. */
  readonly result: string;
}

export interface UsageDelta {
  readonly tenant: string;
  readonly scope: string;
  readonly window: UsageWindow;
  readonly windowStartMs: number;
  readonly calls: number;
  readonly credits: number;
}

/** Everything one batch writes; the adapter applies it with compare-and-set on mutable rows. */
export interface ChangeSet {
  readonly newTenants: readonly string[];
  /** The tenant row as it is to be; compare-and-set on `fromStatus`. */
  readonly tenantUpdates: readonly {
    tenant: string;
    nextHoldExpiryAtMs: number | null;
    fromStatus: TenantStatus;
    status: TenantStatus;
    statusAtMs: number | null;
    statusReason: string | null;
  }[];
  readonly balanceUpdates: readonly {
    tenant: string;
    class: CreditClass;
    fromPosted: number;
    fromHeld: number;
    posted: number;
    held: number;
  }[];
  readonly grantInserts: readonly GrantRow[];
  readonly grantUpdates: readonly {
    grantId: string;
    fromRemaining: number;
    fromStatus: GrantStatus;
    remaining: number;
    status: GrantStatus;
  }[];
  readonly holdInserts: readonly HoldRow[];
  readonly holdUpdates: readonly {
    holdId: string;
    fromState: HoldState;
    fromDrawn: number;
    state: HoldState;
    drawn: number;
    resolvedAtMs: number | null;
    released: number | null;
  }[];
  readonly holdDraws: readonly HoldDrawRow[];
  readonly entries: readonly EntryRow[];
  /**
   * Each record with its `data` as canonical JSON (the text that is stored and was hashed) and
   * the index columns derived from that data (not hashed).
   */
  readonly audit: readonly {
    readonly record: AuditRecord;
    readonly dataText: string;
    readonly keys: AuditIndexKeys;
  }[];
  readonly head: { readonly from: ChainHead; readonly to: ChainHead };
  readonly idempotency: readonly IdempotencyRow[];
  readonly usage: readonly UsageDelta[];
  readonly revocations: readonly Revocation[];
}

/**
 * What the engine needs from a write transaction. Every read happens after the adapter took
 * its write lock (SQLite BEGIN IMMEDIATE, PostgreSQL the chain-head row), so reads are current.
 */
export interface LedgerTx {
  /** The audit chain head; on PostgreSQL this takes the lock that orders writers. */
  readHead(): Promise<ChainHead>;
  loadTenant(tenant: string): Promise<TenantRow | null>;
  /** Pending grants and active grants with credit left. */
  loadOpenGrants(tenant: string): Promise<GrantRow[]>;
  loadGrant(grantId: string): Promise<GrantRow | null>;
  loadHold(holdId: string): Promise<HoldRow | null>;
  loadDueHolds(tenant: string, nowMs: number): Promise<HoldRow[]>;
  /** Earliest expiry of an active hold after `afterMs`. */
  nextHoldExpiry(tenant: string, afterMs: number): Promise<number | null>;
  loadIdempotency(tenant: string, key: string): Promise<IdempotencyRow | null>;
  /**
   * Batch prefetch, in as few round trips as the store allows: the idempotency records of
   * `keys`, and `tenants` with their open grants (absent tenants are missing from the map).
   */
  loadBatch(
    keys: readonly { tenant: string; key: string }[],
    tenants: readonly string[],
  ): Promise<{
    idempotency: IdempotencyRow[];
    tenants: Map<string, { row: TenantRow; grants: GrantRow[] }>;
  }>;
  loadTransfer(tenant: string, transferId: string): Promise<TransferEntry[]>;
  loadUsage(
    tenant: string,
    keys: readonly (UsageKey & { windowStartMs: number })[],
  ): Promise<UsageCounter[]>;
  /** Tenants with a grant to activate or expire, or a hold to expire, at `nowMs`. */
  dueTenants(nowMs: number, limit: number): Promise<string[]>;
  write(changes: ChangeSet): Promise<void>;
}

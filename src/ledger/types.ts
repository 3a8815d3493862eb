/** Ledger vocabulary: requests, result values and rows. All amounts are integer credits. */
import type { JsonValue } from "../audit/canonical.js";

export const creditClasses = ["trial", "paid", "promo", "admin"] as const;
export type CreditClass = (typeof creditClasses)[number];

export type ClassAmounts = Readonly<Record<CreditClass, number>>;
/** Per-class overdraft floor: 0 (the default) forbids overdraft, -100 allows 100 below zero. */
export type Floors = Readonly<Partial<Record<CreditClass, number>>>;

export const usageWindows = { minute: 60_000, hour: 3_600_000 } as const;
export type UsageWindow = keyof typeof usageWindows;

/** A counter the decision flow reads and increments, e.g. scope `principal:u1` per minute. */
export interface UsageKey {
  readonly scope: string;
  readonly window: UsageWindow;
}
export interface UsageIncrement extends UsageKey {
  readonly calls: number;
  readonly credits: number;
  /**
   * Velocity limits, enforced atomically in the write transaction: the operation is refused with
   * `usage_limit_exceeded` (and writes nothing) if the window's stored count, plus what earlier
   * operations of the same transaction added, plus this increment would exceed the max.
   * Ignored by `recordDecision` (a deny is recorded and counted regardless).
   */
  readonly maxCalls?: number;
  readonly maxCredits?: number;
}
export interface UsageCounter extends UsageKey {
  readonly windowStartMs: number;
  readonly calls: number;
  readonly credits: number;
}

/** Caller metadata written into the effect's audit record (decision id, policy revision, ...). */
export type AuditContext = { readonly [key: string]: JsonValue };

/**
 * What an operation took, handed to its `record` callback: the parts drawn (an agent task's fee
 * first, then the hold's), and the hold it placed, if any.
 */
export interface Outcome {
  readonly parts: readonly Part[];
  readonly holdId?: string;
}

/**
 * What a caller records with an operation, computed inside it from its outcome, so the audit
 * record and the idempotency record say what the caller answers: the audit context (replacing
 * `audit`), and `replay`, kept with the idempotency record (the value's `replay`) so a retry is
 * answered without reading the audit trail, whatever masking did to it. Must be pure: a batch
 * that is retried runs it again.
 */
export interface Recording {
  readonly audit: AuditContext;
  readonly replay: JsonValue;
}
export type RecordOutcome = (outcome: Outcome) => Recording;

interface Keyed {
  readonly tenant: string;
  /** Idempotency key, scoped to the tenant. */
  readonly key: string;
  readonly audit?: AuditContext;
}

export interface GrantRequest extends Keyed {
  readonly class: CreditClass;
  readonly amount: number;
  readonly effectiveAtMs?: number;
  readonly expiresAtMs?: number;
  /** Lower draws first; default 0. */
  readonly priority?: number;
  readonly source: string;
  readonly reference?: string;
}

export interface DebitRequest extends Keyed {
  readonly amount: number;
  readonly drawOrder: readonly CreditClass[];
  readonly floors?: Floors;
  readonly usage?: readonly UsageIncrement[];
  readonly record?: RecordOutcome;
}

export interface HoldRequest extends DebitRequest {
  readonly ttlMs: number;
  /**
   * Credits debited together with the hold, in the same operation (an agent task's fee and its
   * budget): both apply, or neither. Drawn first, in the same draw order.
   */
  readonly fee?: number;
  /**
   * The principal that placed the hold (an opaque key, bounded like other identifiers): only a
   * commit or release naming the same owner settles it. Absent: anyone of the tenant may.
   */
  readonly owner?: string;
}

export interface CommitRequest extends Keyed {
  readonly holdId: string;
  readonly amount: number;
  /** Credits above the held amount the commit may draw; default 0. */
  readonly overageAllowance?: number;
  readonly floors?: Floors;
  readonly usage?: readonly UsageIncrement[];
  /** Who settles: must equal the hold's owner when it has one, else `hold_not_owned`. */
  readonly owner?: string;
  /** The same settler's owner key as holds placed before owners were pseudonyms carry it. */
  readonly formerOwner?: string;
}

/** Spends part of an active hold (a task's budget) without resolving it. */
export interface DrawHoldRequest extends Keyed {
  readonly holdId: string;
  readonly amount: number;
  readonly usage?: readonly UsageIncrement[];
  readonly record?: RecordOutcome;
}

export interface ReleaseRequest extends Keyed {
  readonly holdId: string;
  /** Who settles: must equal the hold's owner when it has one, else `hold_not_owned`. */
  readonly owner?: string;
  /** The same settler's owner key as holds placed before owners were pseudonyms carry it. */
  readonly formerOwner?: string;
}

export interface ReverseRequest extends Keyed {
  /** The debit or commit transfer to reverse. */
  readonly transferId: string;
  /** Default: everything not yet reversed. */
  readonly amount?: number;
  readonly reason: string;
}

export const revocationKinds = ["principal", "token", "tenant", "task", "grant"] as const;
export type RevocationKind = (typeof revocationKinds)[number];

export interface RevokeRequest extends Keyed {
  readonly kind: RevocationKind;
  readonly subject: string;
  readonly reason: string;
}

export const tenantStatuses = ["active", "suspended"] as const;
export type TenantStatus = (typeof tenantStatuses)[number];

/**
 * Suspends or reinstates a tenant. The status is what every decision's snapshot reads, so the
 * next decision anywhere sees it. Asking for the status the tenant already has changes nothing
 * but is still recorded (audited, keyed), with `changed: false`.
 */
export interface TenantStatusRequest extends Keyed {
  readonly status: TenantStatus;
  readonly reason: string;
}

/** An audit-only record (a deny, or any decision without a ledger effect). */
export interface DecisionRequest extends Keyed {
  /** Required unless `record` gives it. */
  readonly audit?: AuditContext;
  readonly usage?: readonly UsageIncrement[];
  readonly record?: RecordOutcome;
}

export const eventKinds = ["policy", "auth"] as const;
export type EventKind = (typeof eventKinds)[number];

/**
 * A service event: an audit record without a ledger effect and without an idempotency key
 * (policy bundle activations and rejections, authentication failures). `data` is caller context,
 * bounded like an `audit` context, and must never carry a credential.
 */
export interface EventRequest {
  readonly kind: EventKind;
  /** null for service-wide events; for an authentication failure, the claimed tenant if any. */
  readonly tenant: string | null;
  readonly data: AuditContext;
}

/** One slice of a debit, hold or commit: which class and grant paid (null grant: overdraft). */
export interface Part {
  readonly class: CreditClass;
  readonly grantId: string | null;
  readonly amount: number;
}

export interface GrantValue {
  readonly grantId: string;
  readonly class: CreditClass;
  readonly amount: number;
  readonly effectiveAtMs: number;
  readonly expiresAtMs: number | null;
  readonly auditSeq: number;
}
export interface DebitValue {
  readonly transferId: string;
  readonly amount: number;
  readonly parts: readonly Part[];
  readonly atMs: number;
  readonly auditSeq: number;
  /** The request's `record(...).replay`, when it had one. */
  readonly replay?: JsonValue;
}
export interface HoldValue {
  readonly holdId: string;
  readonly amount: number;
  readonly parts: readonly Part[];
  readonly expiresAtMs: number;
  /** The hold's audit record (it carries the caller's context). */
  readonly auditSeq: number;
  /** The fee's debit, when the request had one: reversible like any debit. */
  readonly fee?: {
    readonly transferId: string;
    readonly amount: number;
    readonly parts: readonly Part[];
  };
  /** The request's `record(...).replay`, when it had one. */
  readonly replay?: JsonValue;
}
export interface CommitValue {
  readonly transferId: string;
  readonly holdId: string;
  readonly committed: number;
  readonly released: number;
  readonly parts: readonly Part[];
  readonly auditSeq: number;
}
export interface DrawHoldValue {
  readonly transferId: string;
  readonly holdId: string;
  readonly amount: number;
  /** Taken from the hold's reserved parts, in the hold's part order. */
  readonly parts: readonly Part[];
  /** What the hold still reserves after this draw. */
  readonly remaining: number;
  readonly auditSeq: number;
  /** The request's `record(...).replay`, when it had one. */
  readonly replay?: JsonValue;
}
export interface ReleaseValue {
  readonly holdId: string;
  readonly released: number;
  readonly auditSeq: number;
}
export interface ReverseValue {
  readonly transferId: string;
  readonly reversedTransferId: string;
  readonly amount: number;
  readonly parts: readonly Part[];
  readonly auditSeq: number;
}
export interface RevokeValue {
  readonly revocationId: string;
  readonly auditSeq: number;
}
export interface TenantStatusValue {
  readonly tenant: string;
  readonly status: TenantStatus;
  readonly previousStatus: TenantStatus;
  /** False when the tenant already had this status: nothing but the audit record was written. */
  readonly changed: boolean;
  /** When the status took effect (for an unchanged status, when it last changed; null: never). */
  readonly sinceMs: number | null;
  /** The reason of the change that set the status (null: never changed). */
  readonly reason: string | null;
  readonly auditSeq: number;
}
/** A tenant's status as it stands now; a tenant the ledger has never seen is active. */
export interface TenantInfo {
  readonly tenant: string;
  readonly status: TenantStatus;
  /** When the status last changed; null: never. */
  readonly sinceMs: number | null;
  readonly reason: string | null;
}
export interface DecisionValue {
  readonly auditSeq: number;
  /** The request's `record(...).replay`, when it had one. */
  readonly replay?: JsonValue;
}
export interface EventValue {
  readonly auditSeq: number;
}

/** A hold as it stands now (a due expiry applied first). */
export interface HoldStatus {
  readonly holdId: string;
  readonly tenant: string;
  /** What the hold reserved when it was placed. */
  readonly amount: number;
  /** Spent by draws so far. */
  readonly drawn: number;
  /** What the hold still reserves: amount − drawn while active, 0 once resolved. */
  readonly remaining: number;
  readonly state: "active" | "committed" | "released" | "expired";
  readonly expiresAtMs: number;
  /** The principal key that placed it; null: no owner (anyone of the tenant may settle it). */
  readonly owner: string | null;
  /** `remaining` per class. */
  readonly remainingByClass: Readonly<Record<CreditClass, number>>;
}

export interface Balances {
  readonly tenant: string;
  readonly atMs: number;
  readonly posted: ClassAmounts;
  readonly held: ClassAmounts;
  /** posted minus held: what the policy sees. */
  readonly available: ClassAmounts;
}

export interface Snapshot {
  readonly nowMs: number;
  readonly balances: Balances;
  readonly usage: readonly UsageCounter[];
  /** The tenant's status, read in the same transaction as its balances. */
  readonly tenantStatus: TenantStatus;
  /** What the idempotency key asked about already recorded (null: unused; absent: not asked). */
  readonly prior?: IdempotencyRecord | null;
}

/** An applied operation as recorded under its idempotency key: its op and original value. */
export interface IdempotencyRecord {
  readonly op: string;
  readonly value: unknown;
}

export interface Revocation {
  readonly revocationId: string;
  readonly tenant: string;
  readonly kind: RevocationKind;
  readonly subject: string;
  readonly reason: string;
  readonly atMs: number;
}

export interface SweepResult {
  readonly grantsActivated: number;
  readonly grantsExpired: number;
  readonly holdsExpired: number;
}

export function zeroAmounts(): Record<CreditClass, number> {
  return { trial: 0, paid: 0, promo: 0, admin: 0 };
}

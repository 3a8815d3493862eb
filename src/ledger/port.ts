/** The store port: what the decision flow and the tests use; SQLite and PostgreSQL implement it. */
import type { AuditRecord } from "../audit/chain.js";
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
  GrantRequest,
  GrantValue,
  HoldRequest,
  HoldValue,
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
  UsageKey,
} from "./types.js";

/** What the invariant check found; `ok` only when every list is empty. */
export interface InvariantReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

export interface LedgerStore {
  grant(req: GrantRequest): Promise<OpResult<GrantValue>>;
  debit(req: DebitRequest): Promise<OpResult<DebitValue>>;
  hold(req: HoldRequest): Promise<OpResult<HoldValue>>;
  commit(req: CommitRequest): Promise<OpResult<CommitValue>>;
  release(req: ReleaseRequest): Promise<OpResult<ReleaseValue>>;
  reverse(req: ReverseRequest): Promise<OpResult<ReverseValue>>;
  revoke(req: RevokeRequest): Promise<OpResult<RevokeValue>>;
  /** Audit-only: a deny, or a decision without a ledger effect. */
  recordDecision(req: DecisionRequest): Promise<OpResult<DecisionValue>>;

  /** Current balances, after lazily applying activations and expiries due now. */
  balances(tenant: string): Promise<Balances>;
  /** Balances as they were at `atMs` (≤ now), from entries and hold history. */
  balancesAt(tenant: string, atMs: number): Promise<Balances>;
  /** Balances and usage counters for building a policy input, read in one transaction. */
  snapshot(tenant: string, usage: readonly UsageKey[]): Promise<Snapshot>;
  /** Applies due activations and expiries for up to `limit` tenants. */
  sweep(limit?: number): Promise<SweepResult>;

  revocations(query: {
    tenant: string;
    kind?: RevocationKind;
    subject?: string;
  }): Promise<Revocation[]>;

  /** Audit records with seq > afterSeq, in order, at most `limit`. */
  auditRecords(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  verifyAudit(): Promise<ChainVerification>;
  /** JSON Lines, one canonical record per line. */
  exportAudit(write: (line: string) => void | Promise<void>): Promise<number>;

  /** Every stored balance equals its entries, holds and grants agree, the chain verifies. */
  checkInvariants(): Promise<InvariantReport>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The part of a store that is the same on every database: each operation is a job for the group
 * committer. Adapters supply the transaction runner and the plain reads.
 */
import {
  type AuditKind,
  type AuditRecord,
  auditKinds,
  type ChainHead,
  emptyHead,
} from "../audit/chain.js";
import { toJsonLine } from "../audit/export.js";
import { auditIndexKeys } from "../audit/index-keys.js";
import { type ChainVerification, describeBreak, linkBreak } from "../audit/verify.js";
import type { OpResult } from "../ledger/codes.js";
import type { AuditPage, AuditQuery, InvariantReport, LedgerStore } from "../ledger/port.js";
import { LedgerReplay, UnreadableRecord } from "../ledger/reconcile.js";
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
} from "../ledger/types.js";
import { limits } from "../limits.js";
import type { GroupCommitter, Job, JobHint } from "./group-commit.js";
import { findInvariantProblems, type InvariantInput } from "./invariants.js";
import { num, type Row } from "./rows-codec.js";

/** Every draw with the sum of its own transfer's entries, for the invariant check (both dialects). */
export const holdDrawsSql = `SELECT d.hold_id, d.transfer_id, d.amount,
  COALESCE((SELECT SUM(e.amount) FROM entries e WHERE e.transfer_id = d.transfer_id), 0) AS entry_sum
  FROM hold_draws d`;

export function holdDrawFromRow(r: Row): {
  holdId: string;
  transferId: string;
  amount: number;
  entrySum: number;
} {
  return {
    holdId: String(r.hold_id),
    transferId: String(r.transfer_id),
    amount: num(r.amount),
    entrySum: num(r.entry_sum),
  };
}

/** An audit query after validation (undefined: no such filter), limit already capped. */
export interface AuditFilter {
  readonly tenant: string | undefined;
  readonly principal: string | undefined;
  readonly decisionId: string | undefined;
  readonly kind: AuditKind | undefined;
  readonly fromMs: number | undefined;
  readonly toMs: number | undefined;
  readonly afterSeq: number;
  readonly limit: number;
}

function optionalText(value: unknown, name: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new TypeError(`${name} must be a non-empty string of at most ${max}`);
  }
  return value;
}

function optionalInteger(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new TypeError(`${name} must be a safe integer ≥ ${min}`);
  }
  return value as number;
}

/** TypeError for a malformed query (the HTTP layer validates first); an over-large limit is capped. */
function auditFilter(query: AuditQuery): AuditFilter {
  const limit = optionalInteger(query.limit, "limit", 1);
  if (limit === undefined) throw new TypeError("limit is required");
  if (query.kind !== undefined && !(auditKinds as readonly unknown[]).includes(query.kind)) {
    throw new TypeError(`kind must be one of ${auditKinds.join(", ")}`);
  }
  return {
    tenant: optionalText(query.tenant, "tenant", limits.ledgerKeyCharsMax),
    principal: optionalText(query.principal, "principal", limits.auditQueryValueCharsMax),
    decisionId: optionalText(query.decisionId, "decisionId", limits.auditQueryValueCharsMax),
    kind: query.kind,
    fromMs: optionalInteger(query.fromMs, "fromMs", Number.MIN_SAFE_INTEGER),
    toMs: optionalInteger(query.toMs, "toMs", Number.MIN_SAFE_INTEGER),
    afterSeq: optionalInteger(query.afterSeq, "afterSeq", 0) ?? 0,
    limit: Math.min(limit, limits.auditQueryRecordsMax),
  };
}

/**
 * The WHERE clause for the filters present, only those, so each query shape can use its index
 * (a catch-all `(? IS NULL OR col = ?)` defeats the planner, and PostgreSQL plans generically
 * here). `param` renders the n-th placeholder in the dialect.
 */
export function auditWhere(
  filter: AuditFilter,
  param: (n: number) => string,
): { where: string; values: (string | number)[] } {
  const conditions: string[] = [];
  const values: (string | number)[] = [];
  const add = (sql: (p: string) => string, value: string | number | undefined) => {
    if (value === undefined) return;
    values.push(value);
    conditions.push(sql(param(values.length)));
  };
  add((p) => `seq > ${p}`, filter.afterSeq);
  add((p) => `tenant = ${p}`, filter.tenant);
  add((p) => `principal = ${p}`, filter.principal);
  add((p) => `decision_id = ${p}`, filter.decisionId);
  add((p) => `kind = ${p}`, filter.kind);
  add((p) => `at_ms >= ${p}`, filter.fromMs);
  add((p) => `at_ms < ${p}`, filter.toMs);
  return { where: conditions.join(" AND "), values };
}

export abstract class BatchedLedgerStore implements LedgerStore {
  protected abstract readonly committer: GroupCommitter;

  /** Group-commit statistics: committed write transactions and the operations they carried. */
  get batchStats(): { batches: number; ops: number } {
    return this.committer.stats;
  }

  grant(req: GrantRequest): Promise<OpResult<GrantValue>> {
    return this.committer.run((e) => e.grant(req), req);
  }
  debit(req: DebitRequest): Promise<OpResult<DebitValue>> {
    return this.committer.run((e) => e.debit(req), req);
  }
  hold(req: HoldRequest): Promise<OpResult<HoldValue>> {
    return this.committer.run((e) => e.hold(req), req);
  }
  drawHold(req: DrawHoldRequest): Promise<OpResult<DrawHoldValue>> {
    return this.committer.run((e) => e.drawHold(req), req);
  }
  commit(req: CommitRequest): Promise<OpResult<CommitValue>> {
    return this.committer.run((e) => e.commit(req), req);
  }
  release(req: ReleaseRequest): Promise<OpResult<ReleaseValue>> {
    return this.committer.run((e) => e.release(req), req);
  }
  reverse(req: ReverseRequest): Promise<OpResult<ReverseValue>> {
    return this.committer.run((e) => e.reverse(req), req);
  }
  revoke(req: RevokeRequest): Promise<OpResult<RevokeValue>> {
    return this.committer.run((e) => e.revoke(req), req);
  }
  setTenantStatus(req: TenantStatusRequest): Promise<OpResult<TenantStatusValue>> {
    return this.committer.run((e) => e.setTenantStatus(req), req);
  }
  recordDecision(req: DecisionRequest): Promise<OpResult<DecisionValue>> {
    return this.committer.run((e) => e.recordDecision(req), req);
  }
  recordEvent(req: EventRequest): Promise<EventValue> {
    // No key to prefetch and no tenant state to load: the event only appends to the chain.
    return this.committer.run((e) => e.recordEvent(req));
  }
  /**
   * Reads first run outside the write path, on a read-only snapshot, so a decision's snapshot
   * neither waits for nor takes the write lock. Only if an activation or expiry is due (the read
   * would change something) does the read go through the write path, which writes it: expiry
   * stays lazy on read, and happens exactly once.
   */
  balances(tenant: string): Promise<Balances> {
    return this.#read((e) => e.balances(tenant), { tenant });
  }
  tenantInfo(tenant: string): Promise<TenantInfo> {
    return this.#read((e) => e.tenantInfo(tenant), { tenant });
  }
  holdStatus(tenant: string, holdId: string): Promise<HoldStatus | null> {
    return this.#read((e) => e.holdStatus(tenant, holdId), { tenant });
  }
  async snapshot(
    tenant: string,
    usage: readonly UsageKey[],
    idempotencyKey?: string,
  ): Promise<Snapshot> {
    const snapshot = await this.#read((e) => e.snapshot(tenant, usage, idempotencyKey), { tenant });
    // A retry must not be told about an operation before the original caller could be.
    if (snapshot.prior !== undefined && snapshot.prior !== null) await this.committer.durable();
    return snapshot;
  }
  async idempotencyRecords(
    tenant: string,
    keys: readonly string[],
  ): Promise<ReadonlyMap<string, IdempotencyRecord>> {
    // Recorded operations never change, so a plain read is current enough; like a snapshot's
    // prior, what it found is answered only once it is durable.
    const records = await this.readJob((e) => e.idempotencyRecords(tenant, keys), { tenant });
    if (records.size > 0) await this.committer.durable();
    return records;
  }

  async #read<T>(job: Job<T>, hint: JobHint): Promise<T> {
    const quick = await this.readJob(
      async (engine) => ({ value: await job(engine), dirty: engine.dirty }),
      hint,
    );
    return quick.dirty ? this.committer.run(job, hint) : quick.value;
  }

  /** Balances with due activations and expiries written first, so entries tell the history. */
  protected maturedBalances(tenant: string): Promise<Balances> {
    return this.committer.run((e) => e.balances(tenant), { tenant });
  }

  protected abstract readJob<T>(job: Job<T>, hint: JobHint): Promise<T>;
  sweep(limit = 1_000): Promise<SweepResult> {
    return this.committer.run((e) => e.sweep(limit));
  }

  async queryAudit(query: AuditQuery): Promise<AuditPage> {
    const filter = auditFilter(query);
    const records = await this.auditQuery(filter);
    const last = records[records.length - 1];
    return {
      records,
      nextAfterSeq: records.length === filter.limit && last !== undefined ? last.seq : null,
    };
  }

  /** Records matching every filter present, seq > afterSeq, ascending, at most `limit`. */
  protected abstract auditQuery(filter: AuditFilter): Promise<AuditRecord[]>;

  /**
   * Walks the chain (links, hashes, and the index columns queries use, which must be what the
   * hashed data says), then replays it and reconciles every value-carrying ledger row with the
   * replay: a row changed behind the trail's back is named with the last record that shaped it.
   */
  async verifyAudit(): Promise<ChainVerification> {
    // The rows first, with the chain head they correspond to: records after it are newer than
    // the rows read and are verified, not replayed.
    return this.#verify(await this.ledgerRows());
  }

  async #verify({
    rows,
    headSeq,
  }: {
    rows: InvariantInput;
    headSeq: number;
  }): Promise<ChainVerification> {
    const replay = new LedgerReplay();
    let head: ChainHead = emptyHead;
    let count = 0;
    let after = 0;
    for (;;) {
      const page = await this.auditRowsForVerify(after, limits.auditPageRecords);
      for (const { record, principal, decisionId } of page) {
        const broken = linkBreak(head, record);
        if (broken !== null) return { ok: false, count, ...broken };
        const keys = auditIndexKeys(record.data);
        if (keys.principal !== principal || keys.decisionId !== decisionId) {
          return {
            ok: false,
            count,
            brokenSeq: record.seq,
            reason: "index_mismatch",
            row: `audit_records ${record.seq}: principal ${JSON.stringify(principal)}, decision_id ${JSON.stringify(decisionId)}; the data says ${JSON.stringify(keys.principal)}, ${JSON.stringify(keys.decisionId)}`,
          };
        }
        if (record.seq <= headSeq) {
          try {
            replay.apply(record);
          } catch (error) {
            if (!(error instanceof UnreadableRecord)) throw error;
            return {
              ok: false,
              count,
              brokenSeq: record.seq,
              reason: "ledger_mismatch",
              row: error.message,
            };
          }
        }
        head = { seq: record.seq, hash: record.hash };
        count++;
      }
      if (page.length < limits.auditPageRecords) break;
      after = head.seq;
    }
    const mismatches = replay.mismatches(rows);
    const [first] = mismatches;
    if (first !== undefined) {
      return {
        ok: false,
        count,
        brokenSeq: first.seq,
        reason: "ledger_mismatch",
        row: first.row,
        tenants: [...new Set(mismatches.map((m) => m.tenant))],
      };
    }
    return { ok: true, count, head };
  }

  async checkInvariants(): Promise<InvariantReport> {
    // One read of the rows for both checks, so they judge the same snapshot.
    const read = await this.ledgerRows();
    const problems = findInvariantProblems(read.rows);
    const chain = await this.#verify(read);
    if (!chain.ok) {
      problems.push(`audit chain broken at ${describeBreak(chain)}`);
    }
    return { ok: problems.length === 0, problems };
  }

  /** Every value-carrying row, read in one snapshot together with the chain head of that snapshot. */
  protected abstract ledgerRows(): Promise<{ rows: InvariantInput; headSeq: number }>;

  /** Records with seq > afterSeq in order, with the index columns stored beside each. */
  protected abstract auditRowsForVerify(
    afterSeq: number,
    limit: number,
  ): Promise<{ record: AuditRecord; principal: string | null; decisionId: string | null }[]>;

  async exportAudit(write: (line: string) => void | Promise<void>): Promise<number> {
    let count = 0;
    for await (const record of this.#allRecords()) {
      await write(toJsonLine(record));
      count++;
    }
    return count;
  }

  async *#allRecords(): AsyncGenerator<AuditRecord> {
    let after = 0;
    for (;;) {
      const page = await this.auditRecords(after, limits.auditPageRecords);
      yield* page;
      if (page.length < limits.auditPageRecords) return;
      after = page[page.length - 1]!.seq;
    }
  }

  abstract balancesAt(tenant: string, atMs: number): Promise<Balances>;
  abstract revocations(query: {
    tenant: string;
    kind?: RevocationKind;
    subject?: string;
  }): Promise<Revocation[]>;
  abstract auditRecords(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  abstract schemaVersion(): Promise<number>;
  abstract close(): Promise<void>;
}

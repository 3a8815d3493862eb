/**
 * The part of a store that is the same on every database: each operation is a job for the group
 * committer. Adapters supply the transaction runner and the plain reads.
 */
import type { AuditRecord } from "../audit/chain.js";
import { toJsonLine } from "../audit/export.js";
import { type ChainVerification, verifyChain } from "../audit/verify.js";
import type { OpResult } from "../ledger/codes.js";
import type { InvariantReport, LedgerStore } from "../ledger/port.js";
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
} from "../ledger/types.js";
import { limits } from "../limits.js";
import type { GroupCommitter, Job, JobHint } from "./group-commit.js";

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
  recordDecision(req: DecisionRequest): Promise<OpResult<DecisionValue>> {
    return this.committer.run((e) => e.recordDecision(req), req);
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
  snapshot(tenant: string, usage: readonly UsageKey[]): Promise<Snapshot> {
    return this.#read((e) => e.snapshot(tenant, usage), { tenant });
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

  async verifyAudit(): Promise<ChainVerification> {
    return verifyChain(this.#allRecords());
  }

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
  abstract checkInvariants(): Promise<InvariantReport>;
  abstract schemaVersion(): Promise<number>;
  abstract close(): Promise<void>;
}

/**
 * The SQLite store: one writer connection per process, WAL, write transactions BEGIN IMMEDIATE so
 * several processes on one file serialize their writes and each re-reads the balances it is about
 * to change. A second connection serves plain reads.
 *
 * Durability FULL (the default) acknowledges a commit only once the WAL is synced to disk, like
 * synchronous=FULL, but the sync runs off the event loop (wal-sync.ts): the connection itself runs
 * synchronous=NORMAL, read back and asserted. NORMAL skips the per-commit sync (a process crash
 * loses nothing; a power loss may lose the last commits).
 */
import { realpathSync } from "node:fs";
import Database from "better-sqlite3";
import type { AuditRecord } from "../../audit/chain.js";
import { type Clock, systemClock } from "../../clock.js";
import { CreditgateError } from "../../errors.js";
import { remainingParts } from "../../ledger/draw.js";
import { type EngineOptions, LedgerEngine } from "../../ledger/engine.js";
import type { LedgerTx } from "../../ledger/rows.js";
import {
  type Balances,
  type CreditClass,
  creditClasses,
  type Revocation,
  type RevocationKind,
  zeroAmounts,
} from "../../ledger/types.js";
import { limits } from "../../limits.js";
import {
  type AuditFilter,
  auditWhere,
  BatchedLedgerStore,
  holdDrawFromRow,
  holdDrawsSql,
} from "../batched-store.js";
import { GroupCommitter, type Job, type JobHint, type TransactionRunner } from "../group-commit.js";
import type { InvariantInput } from "../invariants.js";
import {
  auditFromRow,
  grantFromRow,
  holdFromRow,
  num,
  type Row,
  revocationFromRow,
} from "../rows-codec.js";
import { migrateSqlite, schemaVersionSqlite } from "./migrate.js";
import { SqliteTx } from "./tx.js";
import { datasync, WalSyncer, type WalSyncFunction } from "./wal-sync.js";

export interface SqliteStoreOptions {
  /** A file path; WAL needs a file, so ":memory:" is refused. */
  readonly path: string;
  readonly clock?: Clock;
  /** FULL (default) makes every acknowledged commit survive power loss; NORMAL only a crash. */
  readonly synchronous?: "FULL" | "NORMAL";
  /** How the WAL is synced under FULL; tests replace it to hold a sync back. */
  readonly walSync?: WalSyncFunction;
  readonly maskFields?: readonly string[];
  readonly batchOpsMax?: number;
}

/** SQLite's NORMAL: the WAL is synced at checkpoints; per-commit syncs are ours (FULL). */
const synchronousNormal = 1;

function open(path: string): Database.Database {
  const db = new Database(path);
  db.pragma(`busy_timeout = ${limits.sqliteBusyTimeoutMs}`);
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  db.pragma("synchronous = NORMAL");
  db.pragma(`wal_autocheckpoint = ${limits.sqliteWalAutocheckpointPages}`);
  const level = db.pragma("synchronous", { simple: true });
  if (mode !== "wal" || level !== synchronousNormal) {
    db.close();
    throw new CreditgateError("STORE_DURABILITY_UNSAFE", {
      message: `SQLite runs journal_mode=${String(mode)} synchronous=${String(level)}; wanted WAL and NORMAL`,
    });
  }
  return db;
}

export class SqliteLedgerStore extends BatchedLedgerStore {
  protected readonly committer: GroupCommitter;
  readonly #writer: Database.Database;
  readonly #reader: Database.Database;
  readonly #snapshots: Database.Database;
  readonly #snapshotTx: SqliteTx;
  #snapshotQueue: Promise<unknown> = Promise.resolve();
  readonly #snapshotBegin: Database.Statement;
  readonly #snapshotEnd: Database.Statement;
  readonly #engineOptions: EngineOptions;
  readonly #clock: Clock;
  readonly #auditQueries = new Map<string, Database.Statement<unknown[], unknown>>();
  /** FULL: each acknowledged commit was synced to disk; NORMAL: no per-commit sync. */
  readonly synchronous: "FULL" | "NORMAL";
  readonly #walSyncer: WalSyncer | undefined;

  private constructor(
    writer: Database.Database,
    reader: Database.Database,
    snapshots: Database.Database,
    options: SqliteStoreOptions,
    walSyncer: WalSyncer | undefined,
  ) {
    super();
    this.#walSyncer = walSyncer;
    this.#writer = writer;
    this.#reader = reader;
    this.#snapshots = snapshots;
    this.#snapshotTx = new SqliteTx(snapshots);
    this.#engineOptions = options.maskFields ? { maskFields: options.maskFields } : {};
    this.#clock = options.clock ?? systemClock;
    this.synchronous = options.synchronous ?? "FULL";
    const tx = new SqliteTx(writer);
    // Prepared once: these run for every batch and every snapshot read.
    const begin = writer.prepare("BEGIN IMMEDIATE");
    const commit = writer.prepare("COMMIT");
    const rollback = writer.prepare("ROLLBACK");
    this.#snapshotBegin = snapshots.prepare("BEGIN");
    this.#snapshotEnd = snapshots.prepare("ROLLBACK");
    const runner: TransactionRunner = {
      transaction: async <T>(body: (tx: LedgerTx) => Promise<T>): Promise<T> => {
        begin.run();
        try {
          const result = await body(tx);
          commit.run();
          return result;
        } catch (error) {
          if (writer.inTransaction) rollback.run();
          throw error;
        }
      },
      isRetryable: (error) =>
        error instanceof Database.SqliteError &&
        (error.code.startsWith("SQLITE_BUSY") || error.code.startsWith("SQLITE_LOCKED")),
      ...(walSyncer === undefined ? {} : { durable: () => walSyncer.sync() }),
    };
    this.committer = new GroupCommitter(runner, {
      nowMs: () => this.#clock.nowMs(),
      ...(options.maskFields ? { maskFields: options.maskFields } : {}),
      ...(options.batchOpsMax ? { batchOpsMax: options.batchOpsMax } : {}),
    });
  }

  static open(options: SqliteStoreOptions): SqliteLedgerStore {
    if (options.path === ":memory:" || options.path === "") {
      throw new TypeError("the SQLite store needs a file path (WAL does not work in memory)");
    }
    const writer = open(options.path);
    migrateSqlite(writer, (options.clock ?? systemClock).nowMs());
    const reader = open(options.path);
    const snapshots = open(options.path);
    // The migration wrote (or found) the WAL, so the file exists to be synced.
    // SQLite resolves symbolic links to name its WAL; so must we, or we would sync another file.
    const walSyncer =
      (options.synchronous ?? "FULL") === "FULL"
        ? WalSyncer.open(`${realpathSync(options.path)}-wal`, options.walSync ?? datasync)
        : undefined;
    return new SqliteLedgerStore(writer, reader, snapshots, options, walSyncer);
  }

  #closed = false;

  /** Reads after close() answer like writes do, not with the driver's TypeError. */
  #assertOpen(): void {
    if (this.#closed) throw new CreditgateError("STORE_CLOSED");
  }

  /** One read transaction at a time on the snapshot connection; nothing is written. */
  protected readJob<T>(job: Job<T>, hint: JobHint): Promise<T> {
    // Checked when asked, so reads queued before close() still finish.
    if (this.#closed) return Promise.reject(new CreditgateError("STORE_CLOSED"));
    const run = async (): Promise<T> => {
      this.#snapshotBegin.run();
      try {
        const engine = LedgerEngine.forRead(
          this.#snapshotTx,
          this.#clock.nowMs(),
          this.#engineOptions,
        );
        await engine.prefetch([hint]);
        return await job(engine);
      } finally {
        this.#snapshotEnd.run();
      }
    };
    const result = this.#snapshotQueue.then(run, run);
    this.#snapshotQueue = result.catch(() => undefined);
    return result;
  }

  async balancesAt(tenant: string, atMs: number): Promise<Balances> {
    this.#assertOpen();
    const current = await this.maturedBalances(tenant);
    if (atMs > current.atMs) throw new TypeError("balancesAt cannot look into the future");
    const posted = zeroAmounts();
    const held = zeroAmounts();
    const sums = this.#reader
      .prepare(
        "SELECT class, SUM(amount) AS s FROM entries WHERE tenant = ? AND at_ms <= ? GROUP BY class",
      )
      .all(tenant, atMs) as Row[];
    for (const r of sums) posted[r.class as CreditClass] = num(r.s);
    // What each hold open at atMs still reserved then: its parts less the draws made by then.
    const holds = this.#reader
      .prepare(
        `SELECT h.*, (SELECT COALESCE(SUM(d.amount), 0) FROM hold_draws d
           WHERE d.hold_id = h.hold_id AND d.at_ms <= @at) AS drawn_then
         FROM holds h WHERE h.tenant = @tenant AND h.created_at_ms <= @at
           AND (h.resolved_at_ms IS NULL OR h.resolved_at_ms > @at)`,
      )
      .all({ tenant, at: atMs }) as Row[];
    for (const row of holds) {
      for (const part of remainingParts(holdFromRow(row).parts, num(row.drawn_then)))
        held[part.class] += part.amount;
    }
    const available = zeroAmounts();
    for (const cls of creditClasses) available[cls] = posted[cls] - held[cls];
    return { tenant, atMs, posted, held, available };
  }

  async revocations(query: {
    tenant: string;
    kind?: RevocationKind;
    subject?: string;
  }): Promise<Revocation[]> {
    this.#assertOpen();
    const rows = this.#reader
      .prepare(
        `SELECT * FROM revocations WHERE tenant = @tenant AND (@kind IS NULL OR kind = @kind) AND (@subject IS NULL OR subject = @subject)
         ORDER BY at_ms, revocation_id`,
      )
      .all({
        tenant: query.tenant,
        kind: query.kind ?? null,
        subject: query.subject ?? null,
      }) as Row[];
    return rows.map(revocationFromRow);
  }

  async auditRecords(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.#assertOpen();
    const rows = this.#reader
      .prepare("SELECT * FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?")
      .all(afterSeq, limit) as Row[];
    return rows.map(auditFromRow);
  }

  protected async auditQuery(filter: AuditFilter): Promise<AuditRecord[]> {
    this.#assertOpen();
    const { where, values } = auditWhere(filter, () => "?");
    const sql = `SELECT seq, prev_hash, hash, at_ms, kind, tenant, data FROM audit_records WHERE ${where} ORDER BY seq LIMIT ?`;
    // Few shapes (one per combination of filters): prepare each once.
    let stmt = this.#auditQueries.get(sql);
    if (!stmt) {
      stmt = this.#reader.prepare(sql);
      this.#auditQueries.set(sql, stmt);
    }
    return (stmt.all(...values, filter.limit) as Row[]).map(auditFromRow);
  }

  protected async ledgerRows(): Promise<{ rows: InvariantInput; headSeq: number }> {
    this.#assertOpen();
    const db = this.#reader;
    // One read transaction, so every query sees the same snapshot.
    return db.transaction(() => ({
      headSeq: num((db.prepare("SELECT seq FROM audit_head WHERE id = 1").get() as Row).seq),
      rows: {
        balances: (
          db.prepare("SELECT tenant, class, posted, held FROM balances").all() as Row[]
        ).map((r) => ({
          tenant: String(r.tenant),
          class: r.class as CreditClass,
          posted: num(r.posted),
          held: num(r.held),
        })),
        entrySums: (
          db
            .prepare("SELECT tenant, class, SUM(amount) AS s FROM entries GROUP BY tenant, class")
            .all() as Row[]
        ).map((r) => ({ tenant: String(r.tenant), class: r.class as CreditClass, sum: num(r.s) })),
        grantEntrySums: (
          db
            .prepare(
              "SELECT grant_id, SUM(amount) AS s FROM entries WHERE grant_id IS NOT NULL GROUP BY grant_id",
            )
            .all() as Row[]
        ).map((r) => ({ grantId: String(r.grant_id), sum: num(r.s) })),
        grants: (db.prepare("SELECT * FROM grants").all() as Row[]).map(grantFromRow),
        holds: (db.prepare("SELECT * FROM holds").all() as Row[]).map(holdFromRow),
        holdDraws: (db.prepare(holdDrawsSql).all() as Row[]).map(holdDrawFromRow),
      },
    }))();
  }

  protected async auditRowsForVerify(afterSeq: number, limit: number) {
    this.#assertOpen();
    const rows = this.#reader
      .prepare("SELECT * FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?")
      .all(afterSeq, limit) as Row[];
    return rows.map((r) => ({
      record: auditFromRow(r),
      principal: r.principal === null ? null : String(r.principal),
      decisionId: r.decision_id === null ? null : String(r.decision_id),
    }));
  }

  /** Completed WAL syncs (FULL): each acknowledged batch waited for one. */
  get walSyncs(): number {
    return this.#walSyncer?.syncs ?? 0;
  }

  /** journal_mode and synchronous as the writer connection reports them now. */
  pragmas(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.#writer.pragma("journal_mode", { simple: true })),
      synchronous: Number(this.#writer.pragma("synchronous", { simple: true })),
    };
  }

  async schemaVersion(): Promise<number> {
    this.#assertOpen();
    return schemaVersionSqlite(this.#reader);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.committer.close();
    await this.#snapshotQueue;
    await this.#walSyncer?.close();
    this.#writer.close();
    this.#reader.close();
    this.#snapshots.close();
  }
}

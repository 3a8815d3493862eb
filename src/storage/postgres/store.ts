/**
 * The PostgreSQL store: a pg.Pool, READ COMMITTED write transactions ordered by the chain-head
 * row lock, compare-and-set updates of balances, grants and holds, CHECK constraints and
 * append-only triggers as a backstop, and whole-batch retries of serialization failures and
 * deadlocks (the operations keep their idempotency keys, so a retry cannot apply twice).
 */
import pg from "pg";
import type { AuditRecord } from "../../audit/chain.js";
import { type Clock, systemClock } from "../../clock.js";
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
import { migratePostgres, schemaVersionPostgres } from "./migrate.js";
import { PostgresTx } from "./tx.js";

export interface PostgresStoreOptions {
  readonly connectionString: string;
  readonly clock?: Clock;
  readonly poolSize?: number;
  readonly maskFields?: readonly string[];
  readonly batchOpsMax?: number;
}

/** serialization_failure, deadlock_detected, and connections lost before COMMIT answered. */
const retryableCodes = new Set([
  "40001",
  "40P01",
  "57P01",
  "08000",
  "08003",
  "08006",
  "ECONNRESET",
  "ECONNREFUSED",
]);

export class PostgresLedgerStore extends BatchedLedgerStore {
  protected readonly committer: GroupCommitter;
  readonly #pool: pg.Pool;
  readonly #clock: Clock;
  readonly #engineOptions: EngineOptions;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    super();
    this.#pool = pool;
    this.#clock = options.clock ?? systemClock;
    this.#engineOptions = options.maskFields ? { maskFields: options.maskFields } : {};
    const runner: TransactionRunner = {
      transaction: async <T>(body: (tx: LedgerTx) => Promise<T>): Promise<T> => {
        const client = await pool.connect();
        let broken = false;
        try {
          const tx = new PostgresTx(client);
          await tx.begin();
          const result = await body(tx);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {
            broken = true;
          });
          throw error;
        } finally {
          client.release(broken);
        }
      },
      isRetryable: (error) => {
        const code = (error as { code?: unknown } | null)?.code;
        return typeof code === "string" && retryableCodes.has(code);
      },
    };
    this.committer = new GroupCommitter(runner, {
      nowMs: () => this.#clock.nowMs(),
      ...(options.maskFields ? { maskFields: options.maskFields } : {}),
      ...(options.batchOpsMax ? { batchOpsMax: options.batchOpsMax } : {}),
    });
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresLedgerStore> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: Math.min(options.poolSize ?? 4, limits.postgresPoolSizeMax),
    });
    // An idle client's socket error must not crash the process; the next query will fail instead.
    pool.on("error", () => undefined);
    // Our statements are named (prepared once per connection) and take arrays whose sizes vary
    // per batch; a generic plan saves re-planning the batch write every time (~2 ms).
    pool.on("connect", (client) => {
      client.query("SET plan_cache_mode = force_generic_plan").catch(() => undefined);
    });
    try {
      await migratePostgres(pool, (options.clock ?? systemClock).nowMs());
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresLedgerStore(pool, options);
  }

  async #rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.#pool.query<Row>({ text: sql, values: params })).rows;
  }

  /** A read-only REPEATABLE READ snapshot without the chain-head lock; nothing is written. */
  protected async readJob<T>(job: Job<T>, hint: JobHint): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    try {
      const tx = new PostgresTx(client);
      await tx.beginRead();
      const engine = LedgerEngine.forRead(tx, this.#clock.nowMs(), this.#engineOptions);
      await engine.prefetch([hint]);
      return await job(engine);
    } finally {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      client.release(broken);
    }
  }

  async balancesAt(tenant: string, atMs: number): Promise<Balances> {
    const current = await this.maturedBalances(tenant);
    if (atMs > current.atMs) throw new TypeError("balancesAt cannot look into the future");
    const posted = zeroAmounts();
    const held = zeroAmounts();
    const sums = await this.#rows(
      "SELECT class, SUM(amount) AS s FROM entries WHERE tenant = $1 AND at_ms <= $2 GROUP BY class",
      [tenant, atMs],
    );
    for (const r of sums) posted[r.class as CreditClass] = num(r.s);
    // What each hold open at atMs still reserved then: its parts less the draws made by then.
    const holds = await this.#rows(
      `SELECT h.*, (SELECT COALESCE(SUM(d.amount), 0) FROM hold_draws d
         WHERE d.hold_id = h.hold_id AND d.at_ms <= $2) AS drawn_then
       FROM holds h WHERE h.tenant = $1 AND h.created_at_ms <= $2
         AND (h.resolved_at_ms IS NULL OR h.resolved_at_ms > $2)`,
      [tenant, atMs],
    );
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
    const rows = await this.#rows(
      `SELECT * FROM revocations WHERE tenant = $1 AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR subject = $3)
       ORDER BY at_ms, revocation_id`,
      [query.tenant, query.kind ?? null, query.subject ?? null],
    );
    return rows.map(revocationFromRow);
  }

  async auditRecords(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.#rows(
      "SELECT * FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2",
      [afterSeq, limit],
    );
    return rows.map(auditFromRow);
  }

  protected async auditQuery(filter: AuditFilter): Promise<AuditRecord[]> {
    const { where, values } = auditWhere(filter, (n) => `$${n}`);
    const rows = await this.#rows(
      `SELECT seq, prev_hash, hash, at_ms, kind, tenant, data FROM audit_records WHERE ${where}
       ORDER BY seq LIMIT $${values.length + 1}`,
      [...values, filter.limit],
    );
    return rows.map(auditFromRow);
  }

  protected async ledgerRows(): Promise<{ rows: InvariantInput; headSeq: number }> {
    const client = await this.#pool.connect();
    try {
      // One snapshot for every query.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const rows = async (sql: string) => (await client.query<Row>(sql)).rows;
      const [headRow] = await rows("SELECT seq FROM audit_head WHERE id = 1");
      const result = {
        headSeq: num(headRow?.seq ?? 0),
        rows: {
          balances: (await rows("SELECT tenant, class, posted, held FROM balances")).map((r) => ({
            tenant: String(r.tenant),
            class: r.class as CreditClass,
            posted: num(r.posted),
            held: num(r.held),
          })),
          entrySums: (
            await rows("SELECT tenant, class, SUM(amount) AS s FROM entries GROUP BY tenant, class")
          ).map((r) => ({
            tenant: String(r.tenant),
            class: r.class as CreditClass,
            sum: num(r.s),
          })),
          grantEntrySums: (
            await rows(
              "SELECT grant_id, SUM(amount) AS s FROM entries WHERE grant_id IS NOT NULL GROUP BY grant_id",
            )
          ).map((r) => ({ grantId: String(r.grant_id), sum: num(r.s) })),
          grants: (await rows("SELECT * FROM grants")).map(grantFromRow),
          holds: (await rows("SELECT * FROM holds")).map(holdFromRow),
          holdDraws: (await rows(holdDrawsSql)).map(holdDrawFromRow),
        },
      };
      await client.query("COMMIT");
      return result;
    } finally {
      client.release();
    }
  }

  protected async auditRowsForVerify(afterSeq: number, limit: number) {
    const rows = await this.#rows(
      "SELECT * FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2",
      [afterSeq, limit],
    );
    return rows.map((r) => ({
      record: auditFromRow(r),
      principal: r.principal === null ? null : String(r.principal),
      decisionId: r.decision_id === null ? null : String(r.decision_id),
    }));
  }

  async schemaVersion(): Promise<number> {
    return schemaVersionPostgres(this.#pool);
  }

  async close(): Promise<void> {
    await this.committer.close();
    await this.#pool.end();
  }
}

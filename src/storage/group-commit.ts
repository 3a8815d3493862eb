/**
 * Group commit: operations that arrive in the same event-loop turn, or while a transaction is in
 * flight, run in ONE write transaction, each against the state left by the ones before it. Their
 * promises settle only after the commit is durable: after COMMIT returned, and after the runner's
 * `durable()` when it has one (SQLite syncs its WAL off the event loop that way, so the next batch
 * runs while the disk works). This is what pays for durable SQLite commits and for the
 * per-transaction round trips and WAL flush of PostgreSQL.
 *
 * If the transaction fails for a reason that is not retryable, the batch is split and each
 * operation runs alone, so one operation's failure cannot take the others with it.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { CreditgateError, isCreditgateError } from "../errors.js";
import { type EngineOptions, LedgerEngine } from "../ledger/engine.js";
import type { LedgerTx } from "../ledger/rows.js";
import { limits } from "../limits.js";

export type Job<T> = (engine: LedgerEngine) => Promise<T>;

/** What an operation will read, so the batch can load it for all operations at once. */
export interface JobHint {
  readonly tenant: unknown;
  readonly key?: unknown;
}

interface Pending {
  readonly job: Job<unknown>;
  readonly hint: JobHint | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface TransactionRunner {
  /** Runs `body` in one write transaction (committed when it returns, rolled back if it throws). */
  transaction<T>(body: (tx: LedgerTx) => Promise<T>): Promise<T>;
  /** Serialization failures, deadlocks, a busy database: the whole batch may run again. */
  isRetryable(error: unknown): boolean;
  /**
   * Resolves once everything committed so far is on stable storage. When present, a batch's
   * operations settle only after it, and the next batch may run meanwhile.
   */
  durable?(): Promise<void>;
}

export interface GroupCommitOptions extends EngineOptions {
  readonly nowMs: () => number;
  readonly batchOpsMax?: number;
}

export class GroupCommitter {
  readonly #runner: TransactionRunner;
  readonly #options: GroupCommitOptions;
  readonly #batchMax: number;
  #queue: Pending[] = [];
  #running = false;
  #closed = false;
  #idle: Promise<void> = Promise.resolve();
  /** Committed batches waiting for durability; close() waits for them. */
  readonly #syncing = new Set<Promise<void>>();
  /** Settles once every batch committed so far is durable (or failed to become so). */
  #lastSync: Promise<void> = Promise.resolve();
  /**
   * Set when a committed batch could not be made durable: the disk may have dropped those
   * writes, and everything committed after them rests on them, so the store takes nothing more
   * until it is reopened (and SQLite recovers the WAL). Fail-stop, as PostgreSQL does.
   */
  #failed: CreditgateError | undefined;
  #batches = 0;
  #ops = 0;

  constructor(runner: TransactionRunner, options: GroupCommitOptions) {
    this.#runner = runner;
    this.#options = options;
    this.#batchMax = Math.min(
      options.batchOpsMax ?? limits.ledgerBatchOpsMax,
      limits.ledgerBatchOpsMax,
    );
  }

  run<T>(job: Job<T>, hint?: JobHint): Promise<T> {
    if (this.#closed) return Promise.reject(new CreditgateError("STORE_CLOSED"));
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ job, hint, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#running) {
        this.#running = true;
        this.#idle = this.#drain();
      }
    });
  }

  /** Committed batches and the operations they carried, for benchmarks and metrics. */
  get stats(): { batches: number; ops: number } {
    return { batches: this.#batches, ops: this.#ops };
  }

  /** Resolves once everything committed so far is durable; rejects if that failed. */
  durable(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return this.#lastSync.then(() => {
      if (this.#failed !== undefined) throw this.#failed;
    });
  }

  /** Stops accepting work and waits for what is queued to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#idle;
    await Promise.all(this.#syncing);
  }

  async #drain(): Promise<void> {
    // Let everything issued in this turn join the first batch.
    await nextTurn();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#batchMax);
        if (this.#failed !== undefined) {
          for (const pending of batch) pending.reject(this.#failed);
          continue;
        }
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(batch: readonly Pending[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const settled = await this.#runner.transaction((tx) => this.#execute(tx, batch));
        this.#batches++;
        this.#ops += batch.length;
        const settle = () =>
          settled.forEach((s, i) => {
            if (s.ok) batch[i]!.resolve(s.value);
            else batch[i]!.reject(s.error);
          });
        if (this.#runner.durable === undefined) {
          settle();
          return;
        }
        // Not awaited: the next batch executes while this one's commit reaches the disk.
        const synced: Promise<void> = this.#runner.durable().then(settle, (error: unknown) => {
          this.#failed ??= new CreditgateError("STORE_UNAVAILABLE", {
            message: "a commit could not be made durable; the store must be reopened",
            cause: error,
          });
          for (const pending of batch) pending.reject(this.#failed);
          for (const pending of this.#queue.splice(0)) pending.reject(this.#failed);
        });
        this.#lastSync = synced;
        this.#syncing.add(synced);
        void synced.finally(() => this.#syncing.delete(synced));
        return;
      } catch (error) {
        if (this.#runner.isRetryable(error) && attempt < limits.ledgerBatchRetriesMax) {
          await new Promise((r) => setTimeout(r, Math.min(50, 2 ** attempt) * Math.random()));
          continue;
        }
        if (batch.length > 1) {
          for (const one of batch) await this.#runBatch([one]);
          return;
        }
        batch[0]!.reject(toStoreError(error, this.#runner.isRetryable(error)));
        return;
      }
    }
  }

  async #execute(tx: LedgerTx, batch: readonly Pending[]): Promise<Settled[]> {
    const engine = await LedgerEngine.begin(tx, this.#options.nowMs(), this.#options);
    await engine.prefetch(batch.flatMap((p) => (p.hint ? [p.hint] : [])));
    const settled: Settled[] = [];
    for (const pending of batch) {
      try {
        settled.push({ ok: true, value: await pending.job(engine) });
      } catch (error) {
        // A caller's bug is thrown before the operation changes anything: fail it alone.
        if (error instanceof TypeError) settled.push({ ok: false, error });
        else throw error;
      }
    }
    await tx.write(engine.changes());
    return settled;
  }
}

/**
 * Everything a caller sees is typed: a constraint the database enforced (a CHECK, a unique key, an
 * append-only trigger) means an invariant backstop fired; anything else left nothing applied (the
 * transaction rolled back), so retrying with the same keys is safe.
 */
function toStoreError(error: unknown, retryable: boolean): unknown {
  if (isCreditgateError(error) || error instanceof TypeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const constraint =
    typeof code === "string" && (code.startsWith("SQLITE_CONSTRAINT") || /^23\d{3}$/.test(code));
  if (!retryable && constraint) {
    return new CreditgateError("LEDGER_INVARIANT_VIOLATED", { message, cause: error });
  }
  return new CreditgateError("STORE_UNAVAILABLE", { message, cause: error });
}

/**
 * The group committer on a real SQLite database, with a transaction runner that can inject
 * failures at COMMIT time: batching, whole-batch retry with the same keys, and isolation of a
 * failing operation.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import type { LedgerTx } from "../../src/ledger/rows.js";
import { GroupCommitter, type TransactionRunner } from "../../src/storage/group-commit.js";
import { migrateSqlite } from "../../src/storage/sqlite/migrate.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { SqliteTx } from "../../src/storage/sqlite/tx.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-group-commit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describe("group commit", () => {
  let path: string;
  let db: Database.Database;
  let committer: GroupCommitter;
  let failCommits: number;
  let failWith: Error | undefined;
  let attempts: number;
  const clock = new ManualClock();

  beforeEach(() => {
    path = join(dir, `gc-${++n}.db`);
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    migrateSqlite(db, clock.nowMs());
    const tx = new SqliteTx(db);
    failCommits = 0;
    failWith = undefined;
    attempts = 0;
    const runner: TransactionRunner = {
      async transaction<T>(body: (tx: LedgerTx) => Promise<T>): Promise<T> {
        attempts++;
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await body(tx);
          if (failWith) throw failWith;
          if (failCommits > 0) {
            failCommits--;
            throw Object.assign(new Error("injected serialization failure"), { code: "40001" });
          }
          db.exec("COMMIT");
          return result;
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      },
      isRetryable: (error) => (error as { code?: unknown }).code === "40001",
    };
    committer = new GroupCommitter(runner, { nowMs: () => clock.nowMs() });
  });

  afterEach(async () => {
    await committer.close();
    db.close();
    const store = SqliteLedgerStore.open({ path });
    expect((await store.checkInvariants()).problems).toEqual([]);
    await store.close();
  });

  const fund = () =>
    committer.run((e) =>
      e.grant({ tenant: "t", key: "fund", class: "paid", amount: 100, source: "test" }),
    );
  const debit = (key: string) =>
    committer.run((e) => e.debit({ tenant: "t", key, amount: 1, drawOrder: ["paid"] }));

  it("runs operations issued in the same turn in one transaction", async () => {
    await fund();
    const before = committer.stats;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => debit(`d${i}`)));
    expect(results.every((r) => r.code === "ok")).toBe(true);
    expect(committer.stats).toEqual({ batches: before.batches + 1, ops: before.ops + 20 });
  });

  it("retries a batch whose COMMIT failed with a retryable error, applying each operation once", async () => {
    await fund();
    failCommits = 2;
    attempts = 0;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => debit(`d${i}`)));
    expect(attempts).toBe(3);
    expect(results.map((r) => r.code)).toEqual(Array(10).fill("ok"));
    const count = db.prepare("SELECT COUNT(*) AS c FROM entries WHERE kind = 'debit'").get() as {
      c: number;
    };
    expect(count.c).toBe(10);
    const row = db
      .prepare("SELECT posted FROM balances WHERE tenant = 't' AND class = 'paid'")
      .get();
    expect(row).toEqual({ posted: 90 });
  });

  it("isolates an operation that fails the transaction: the others still apply", async () => {
    await fund();
    const boom = committer.run(async () => {
      throw new Error("boom");
    });
    const others = Array.from({ length: 5 }, (_, i) => debit(`d${i}`));
    await expect(boom).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", message: "boom" });
    expect((await Promise.all(others)).map((r) => r.code)).toEqual(Array(5).fill("ok"));
  });

  it("reports a constraint the database enforced as LEDGER_INVARIANT_VIOLATED, nothing applied", async () => {
    await fund();
    failWith = Object.assign(new Error("CHECK constraint failed: held >= 0"), {
      code: "SQLITE_CONSTRAINT_CHECK",
    });
    await expect(debit("d1")).rejects.toMatchObject({ code: "LEDGER_INVARIANT_VIOLATED" });
    failWith = undefined;
    const row = db
      .prepare("SELECT posted FROM balances WHERE tenant = 't' AND class = 'paid'")
      .get();
    expect(row).toEqual({ posted: 100 });
  });

  it("fails a caller's TypeError alone without aborting the batch", async () => {
    await fund();
    const before = committer.stats;
    const bad = committer.run((e) =>
      e.debit({ tenant: "t", key: "bad", amount: 0.5, drawOrder: ["paid"] }),
    );
    const good = debit("good");
    await expect(bad).rejects.toThrow(TypeError);
    expect((await good).code).toBe("ok");
    expect(committer.stats.batches).toBe(before.batches + 1);
  });
});

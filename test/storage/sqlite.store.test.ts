/** SQLite-only promises: durability settings, file requirement, migrations recorded once. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-sqlite-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SQLite store", () => {
  it("runs WAL with synchronous=FULL by default, NORMAL only when asked", async () => {
    const full = SqliteLedgerStore.open({ path: join(dir, "full.db") });
    expect(full.pragmas()).toEqual({ journalMode: "wal", synchronous: 2 });
    await full.close();
    const normal = SqliteLedgerStore.open({ path: join(dir, "normal.db"), synchronous: "NORMAL" });
    expect(normal.pragmas()).toEqual({ journalMode: "wal", synchronous: 1 });
    await normal.close();
  });

  it("refuses an in-memory database, where WAL is impossible", () => {
    expect(() => SqliteLedgerStore.open({ path: ":memory:" })).toThrow(TypeError);
  });

  it("applies each migration once and records it", async () => {
    const path = join(dir, "migrate.db");
    for (let i = 0; i < 2; i++) {
      const store = SqliteLedgerStore.open({ path });
      expect(await store.schemaVersion()).toBe(1);
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT version, name FROM schema_migrations").all()).toEqual([
      { version: 1, name: "initial" },
    ]);
    db.close();
  });

  it("names the first tampered record when someone bypasses the append-only trigger", async () => {
    const path = join(dir, "tamper.db");
    const store = SqliteLedgerStore.open({ path });
    for (let i = 0; i < 4; i++) {
      await store.grant({ tenant: "t", key: `g${i}`, class: "paid", amount: 10 + i, source: "s" });
    }
    const db = new Database(path);
    db.exec("DROP TRIGGER audit_no_update");
    db.prepare(
      "UPDATE audit_records SET data = replace(data, '\"amount\":12', '\"amount\":99') WHERE seq = 3",
    ).run();
    db.close();
    expect(await store.verifyAudit()).toMatchObject({
      ok: false,
      brokenSeq: 3,
      reason: "hash_mismatch",
    });
    expect((await store.checkInvariants()).problems).toContain(
      "audit chain broken at seq 3 (hash_mismatch)",
    );
    await store.close();
  });

  it("reads without the write path unless something is due, which the read then writes", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = SqliteLedgerStore.open({ path: join(dir, "reads.db"), clock });
    await store.grant({
      tenant: "t",
      key: "g",
      class: "paid",
      amount: 5,
      source: "s",
      expiresAtMs: clock.nowMs() + 1_000,
    });
    const before = store.batchStats.batches;
    expect((await store.balances("t")).available.paid).toBe(5);
    await store.snapshot("t", [{ scope: "principal:u", window: "minute" }]);
    expect(store.batchStats.batches).toBe(before);
    clock.tick(1_000);
    expect((await store.balances("t")).available.paid).toBe(0);
    expect(store.batchStats.batches).toBe(before + 1);
    expect((await store.auditRecords(0, 10)).map((r) => r.kind)).toEqual(["grant", "expiry"]);
    await store.close();
  });
});

/** SQLite-only promises: durability settings, file requirement, migrations recorded once. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { initial } from "../../src/storage/sqlite/migrations/index.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { insertDerived, v1Expected, v1Records, v1Row } from "./audit-v1-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-sqlite-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SQLite store", () => {
  it("syncs the WAL for every acknowledged batch by default (FULL), not when NORMAL is asked", async () => {
    const full = SqliteLedgerStore.open({ path: join(dir, "full.db") });
    expect(full.synchronous).toBe("FULL");
    // The connection runs NORMAL; the per-commit sync is the store's own, off the event loop.
    expect(full.pragmas()).toEqual({ journalMode: "wal", synchronous: 1 });
    await full.grant({ tenant: "t", key: "g1", class: "paid", amount: 5, source: "test" });
    expect(full.walSyncs).toBeGreaterThanOrEqual(1);
    await full.close();
    const normal = SqliteLedgerStore.open({ path: join(dir, "normal.db"), synchronous: "NORMAL" });
    await normal.grant({ tenant: "t", key: "g1", class: "paid", amount: 5, source: "test" });
    expect(normal.pragmas()).toEqual({ journalMode: "wal", synchronous: 1 });
    expect(normal.walSyncs).toBe(0);
    await normal.close();
  });

  it("acknowledges nothing before its commit is synced, and keeps committing meanwhile", async () => {
    const releases: (() => void)[] = [];
    const store = SqliteLedgerStore.open({
      path: join(dir, "held-sync.db"),
      walSync: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    let acknowledged = false;
    const first = store
      .grant({ tenant: "t", key: "g1", class: "paid", amount: 5, source: "test" })
      .then((r) => {
        acknowledged = true;
        return r;
      });
    // The commit happened (a second connection sees it), but the sync is held back.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(releases).toHaveLength(1);
    expect(acknowledged).toBe(false);
    const reader = new Database(join(dir, "held-sync.db"), { readonly: true });
    expect(reader.prepare("SELECT COUNT(*) AS n FROM grants").get()).toEqual({ n: 1 });
    // A second batch commits while the first waits for its sync, and waits for one of its own.
    const second = store.grant({
      tenant: "t",
      key: "g2",
      class: "paid",
      amount: 5,
      source: "test",
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.prepare("SELECT COUNT(*) AS n FROM grants").get()).toEqual({ n: 2 });
    reader.close();
    releases.shift()?.();
    expect((await first).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(releases).toHaveLength(1);
    releases.shift()?.();
    expect((await second).ok).toBe(true);
    await store.close();
  });

  it("refuses an in-memory database, where WAL is impossible", () => {
    expect(() => SqliteLedgerStore.open({ path: ":memory:" })).toThrow(TypeError);
  });

  it("applies each migration once and records it", async () => {
    const path = join(dir, "migrate.db");
    for (let i = 0; i < 2; i++) {
      const store = SqliteLedgerStore.open({ path });
      expect(await store.schemaVersion()).toBe(2);
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT version, name FROM schema_migrations").all()).toEqual([
      { version: 1, name: "initial" },
      { version: 2, name: "audit-query" },
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

  it("migrates a version-1 database with records to version 2, backfilling the query columns", async () => {
    const path = join(dir, "v1.db");
    const records = v1Records();
    const v1 = new Database(path);
    v1.pragma("journal_mode = WAL");
    v1.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)",
    );
    v1.exec(initial.sql);
    v1.prepare("INSERT INTO schema_migrations VALUES (1, 'initial', 0)").run();
    const insert = v1.prepare("INSERT INTO audit_records VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const r of records) insert.run(...v1Row(r));
    const last = records[records.length - 1]!;
    v1.prepare("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1").run(last.seq, last.hash);
    v1.close();

    const store = SqliteLedgerStore.open({ path, clock: new ManualClock(10_000) });
    try {
      expect(await store.schemaVersion()).toBe(2);
      const db = new Database(path);
      const derived = db.prepare("SELECT seq, principal, decision_id FROM audit_records").all();
      expect(derived).toEqual(v1Expected);
      expect(derived).toEqual(insertDerived());
      // The trigger is back: the backfill was the only update.
      expect(() => db.prepare("UPDATE audit_records SET principal = 'x'").run()).toThrow(
        /append-only/,
      );
      db.close();
      expect(await store.auditRecords(0, 10)).toEqual(records);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, count: records.length });
      expect((await store.queryAudit({ principal: "alice", limit: 10 })).records).toEqual([
        records[0],
      ]);
      expect((await store.queryAudit({ principal: "carol", limit: 10 })).records).toEqual([
        records[5],
      ]);
      // New records chain on after the migrated ones.
      const event = await store.recordEvent({ kind: "policy", tenant: null, data: { v: 2 } });
      expect(event.auditSeq).toBe(records.length + 1);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, count: records.length + 1 });
    } finally {
      await store.close();
    }
  });

  it("answers audit queries from the indexes, not a table scan", async () => {
    const path = join(dir, "plan.db");
    const store = SqliteLedgerStore.open({ path });
    await store.close();
    const db = new Database(path, { readonly: true });
    const plan = (where: string) =>
      JSON.stringify(
        db
          .prepare(
            `EXPLAIN QUERY PLAN SELECT * FROM audit_records WHERE seq > 0 AND ${where} ORDER BY seq LIMIT 10`,
          )
          .all(),
      );
    expect(plan("tenant = 't'")).toContain("audit_tenant");
    expect(plan("principal = 'p'")).toContain("audit_principal");
    expect(plan("decision_id = 'd'")).toContain("audit_decision");
    expect(plan("at_ms >= 1 AND at_ms < 2")).toContain("audit_at");
    db.close();
  });
});

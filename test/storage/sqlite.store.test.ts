/** SQLite-only promises: durability settings, file requirement, migrations recorded once. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { auditQuery, holdDraws, initial } from "../../src/storage/sqlite/migrations/index.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { insertDerived, v1Expected, v1Records, v1Row } from "./audit-v1-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-sqlite-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The problems of a database these tests wrote row by row, as an older version left it but
 * without the audit records that version wrote too: the chain cannot account for such rows
 * (ledger_mismatch), every other invariant must hold.
 */
function writtenWithoutRecords(report: { problems: readonly string[] }): string[] {
  return report.problems.filter((problem) => !problem.includes("(ledger_mismatch)"));
}

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

  it("tells a retry about an operation only once the original's commit is synced", async () => {
    const releases: (() => void)[] = [];
    let holdBack = false;
    const store = SqliteLedgerStore.open({
      path: join(dir, "retry-sync.db"),
      walSync: () =>
        holdBack ? new Promise<void>((resolve) => releases.push(resolve)) : Promise.resolve(),
    });
    await store.grant({ tenant: "t", key: "g", class: "paid", amount: 50, source: "test" });
    holdBack = true;
    const original = store.debit({ tenant: "t", key: "K", amount: 5, drawOrder: ["paid"] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    let answered = false;
    const retry = store.snapshot("t", [], "K").then((snapshot) => {
      answered = true;
      return snapshot;
    });
    const lookup = store.idempotencyRecords("t", ["K"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    holdBack = false;
    for (const release of releases.splice(0)) release();
    expect((await original).ok).toBe(true);
    expect((await retry).prior?.op).toBe("debit");
    expect((await lookup).has("K")).toBe(true);
    await store.close();
  });

  it("stops taking work once a commit could not be made durable", async () => {
    let fail = false;
    const store = SqliteLedgerStore.open({
      path: join(dir, "sync-fails.db"),
      walSync: () => (fail ? Promise.reject(new Error("EIO")) : Promise.resolve()),
    });
    await store.grant({ tenant: "t", key: "g1", class: "paid", amount: 5, source: "test" });
    fail = true;
    await expect(
      store.grant({ tenant: "t", key: "g2", class: "paid", amount: 5, source: "test" }),
    ).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    fail = false;
    // Even with the disk healthy again: everything after the lost sync rests on it.
    await expect(
      store.grant({ tenant: "t", key: "g3", class: "paid", amount: 5, source: "test" }),
    ).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await store.close();
  });

  it("syncs the WAL SQLite writes, also through a symbolic link", async () => {
    const real = join(dir, "real");
    const linked = join(dir, "linked");
    mkdirSync(real);
    mkdirSync(linked);
    await SqliteLedgerStore.open({ path: join(real, "l.db") }).close();
    symlinkSync(join(real, "l.db"), join(linked, "l.db"));
    const store = SqliteLedgerStore.open({ path: join(linked, "l.db") });
    await store.grant({ tenant: "t", key: "g", class: "paid", amount: 5, source: "test" });
    expect(store.walSyncs).toBeGreaterThanOrEqual(1);
    // No stray WAL beside the link: the one synced is the one SQLite writes.
    expect(readdirSync(linked)).toEqual(["l.db"]);
    await store.close();
  });

  it("answers STORE_CLOSED to reads as to writes once closed", async () => {
    const store = SqliteLedgerStore.open({ path: join(dir, "closed.db") });
    await store.close();
    await store.close();
    for (const read of [
      () => store.balances("t"),
      () => store.snapshot("t", []),
      () => store.auditRecords(0, 1),
      () => store.queryAudit({ limit: 1 }),
      () => store.revocations({ tenant: "t" }),
      () => store.schemaVersion(),
    ]) {
      await expect(read()).rejects.toMatchObject({ code: "STORE_CLOSED" });
    }
    await expect(
      store.grant({ tenant: "t", key: "g", class: "paid", amount: 1, source: "test" }),
    ).rejects.toMatchObject({ code: "STORE_CLOSED" });
  });

  it("refuses an in-memory database, where WAL is impossible", () => {
    expect(() => SqliteLedgerStore.open({ path: ":memory:" })).toThrow(TypeError);
  });

  it("applies each migration once and records it", async () => {
    const path = join(dir, "migrate.db");
    for (let i = 0; i < 2; i++) {
      const store = SqliteLedgerStore.open({ path });
      expect(await store.schemaVersion()).toBe(5);
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT version, name FROM schema_migrations").all()).toEqual([
      { version: 1, name: "initial" },
      { version: 2, name: "audit-query" },
      { version: 3, name: "hold-draws" },
      { version: 4, name: "hold-owner" },
      { version: 5, name: "tenant-status" },
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

  it("migrates a version-1 database with records to the current version, backfilling the query columns", async () => {
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
      expect(await store.schemaVersion()).toBe(5);
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

  it("migrates a version-2 database with holds in every state to version 3 (and on), keeping them valid", async () => {
    const path = join(dir, "v2.db");
    const v2 = new Database(path);
    v2.pragma("journal_mode = WAL");
    v2.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)",
    );
    v2.exec(initial.sql);
    v2.exec(auditQuery.sql);
    v2.prepare(
      "INSERT INTO schema_migrations VALUES (1, 'initial', 0), (2, 'audit-query', 0)",
    ).run();
    // What version 2 left after: grant 100, a commit of 20 (hold of 20), a released hold of 10,
    // an expired hold of 5, and an active hold of 30 (posted 80, held 30, grant remaining 50).
    const parts = (n: number) => JSON.stringify([{ class: "paid", grantId: "grt_1", amount: n }]);
    v2.exec(`
      INSERT INTO tenants VALUES ('t', 100000);
      INSERT INTO balances VALUES ('t', 'paid', 80, 30), ('t', 'trial', 0, 0), ('t', 'promo', 0, 0), ('t', 'admin', 0, 0);
      INSERT INTO grants VALUES ('grt_1', 't', 'paid', 100, 50, 'active', 0, NULL, 0, 's', NULL, 0);
      INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
        VALUES ('grt_1.0', 't', 'paid', 'grt_1', 'grt_1', 'grant', 100, NULL, 0),
               ('ent_c.0', 't', 'paid', 'grt_1', 'ent_c', 'commit', -20, NULL, 10);
    `);
    const insertHold = v2.prepare(
      "INSERT INTO holds VALUES (?, 't', ?, ?, '[\"paid\"]', ?, 0, ?, ?)",
    );
    insertHold.run("hld_active", 30, parts(30), "active", 100_000, null);
    insertHold.run("hld_committed", 20, parts(20), "committed", 100_000, 10);
    insertHold.run("hld_released", 10, parts(10), "released", 100_000, 20);
    insertHold.run("hld_expired", 5, parts(5), "expired", 30, 30);
    v2.close();

    const clock = new ManualClock(50_000);
    const store = SqliteLedgerStore.open({ path, clock });
    try {
      expect(await store.schemaVersion()).toBe(5);
      const db = new Database(path);
      expect(
        db.prepare("SELECT hold_id, drawn, released FROM holds ORDER BY hold_id").all(),
      ).toEqual([
        { hold_id: "hld_active", drawn: 0, released: null },
        { hold_id: "hld_committed", drawn: 0, released: null },
        { hold_id: "hld_expired", drawn: 0, released: 5 },
        { hold_id: "hld_released", drawn: 0, released: 10 },
      ]);
      expect(writtenWithoutRecords(await store.checkInvariants())).toEqual([]);
      expect(await store.holdStatus("t", "hld_active")).toMatchObject({
        drawn: 0,
        remaining: 30,
        state: "active",
      });
      const d = await store.drawHold({ tenant: "t", key: "d", holdId: "hld_active", amount: 12 });
      expect(d).toMatchObject({ ok: true, value: { remaining: 18 } });
      expect(await store.release({ tenant: "t", key: "r", holdId: "hld_active" })).toMatchObject({
        ok: true,
        value: { released: 18 },
      });
      expect(await store.balances("t")).toMatchObject({ posted: { paid: 68 }, held: { paid: 0 } });
      expect(writtenWithoutRecords(await store.checkInvariants())).toEqual([]);
      // Draws are append-only, and the hold columns keep their bounds.
      expect(() => db.prepare("UPDATE hold_draws SET amount = 1").run()).toThrow(/append-only/);
      expect(() => db.prepare("DELETE FROM hold_draws").run()).toThrow(/append-only/);
      expect(() =>
        db.prepare("UPDATE holds SET drawn = amount + 1 WHERE hold_id = 'hld_committed'").run(),
      ).toThrow(/CHECK/);
      db.close();
    } finally {
      await store.close();
    }
  });

  it("migrates a version-3 database with holds to version 4: existing holds have no owner", async () => {
    const path = join(dir, "v3.db");
    const v3 = new Database(path);
    v3.pragma("journal_mode = WAL");
    v3.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)",
    );
    v3.exec(initial.sql);
    v3.exec(auditQuery.sql);
    v3.exec(holdDraws.sql);
    v3.prepare(
      "INSERT INTO schema_migrations VALUES (1, 'initial', 0), (2, 'audit-query', 0), (3, 'hold-draws', 0)",
    ).run();
    // What version 3 left after: grant 100, two active holds of 30 and 20 (one drawn 5), a
    // released hold of 10 (posted 95, held 45, grant remaining 50).
    const parts = (n: number) => JSON.stringify([{ class: "paid", grantId: "grt_1", amount: n }]);
    v3.exec(`
      INSERT INTO tenants VALUES ('t', 100000);
      INSERT INTO balances VALUES ('t', 'paid', 95, 45), ('t', 'trial', 0, 0), ('t', 'promo', 0, 0), ('t', 'admin', 0, 0);
      INSERT INTO grants VALUES ('grt_1', 't', 'paid', 100, 50, 'active', 0, NULL, 0, 's', NULL, 0);
      INSERT INTO entries (entry_id, tenant, class, grant_id, transfer_id, kind, amount, ref_entry_id, at_ms)
        VALUES ('grt_1.0', 't', 'paid', 'grt_1', 'grt_1', 'grant', 100, NULL, 0),
               ('ent_d.0', 't', 'paid', 'grt_1', 'ent_d', 'debit', -5, NULL, 10);
      INSERT INTO hold_draws VALUES ('ent_d', 'hld_b', 't', 5, 10);
    `);
    const insertHold = v3.prepare(
      "INSERT INTO holds VALUES (?, 't', ?, ?, '[\"paid\"]', ?, 0, 100000, ?, ?, ?)",
    );
    insertHold.run("hld_a", 30, parts(30), "active", null, 0, null);
    insertHold.run("hld_b", 20, parts(20), "active", null, 5, null);
    insertHold.run("hld_r", 10, parts(10), "released", 20, 0, 10);
    v3.close();

    const store = SqliteLedgerStore.open({ path, clock: new ManualClock(50_000) });
    try {
      expect(await store.schemaVersion()).toBe(5);
      const db = new Database(path, { readonly: true });
      expect(db.prepare("SELECT hold_id, owner FROM holds ORDER BY hold_id").all()).toEqual([
        { hold_id: "hld_a", owner: null },
        { hold_id: "hld_b", owner: null },
        { hold_id: "hld_r", owner: null },
      ]);
      db.close();
      expect(writtenWithoutRecords(await store.checkInvariants())).toEqual([]);
      expect(await store.holdStatus("t", "hld_b")).toMatchObject({
        owner: null,
        drawn: 5,
        remaining: 15,
        state: "active",
      });
      // No owner: settled by anyone, named or not, as before.
      expect(
        await store.commit({
          tenant: "t",
          key: "c",
          holdId: "hld_a",
          amount: 10,
          owner: "user:x:y",
        }),
      ).toMatchObject({ ok: true, value: { committed: 10, released: 20 } });
      expect(await store.release({ tenant: "t", key: "r", holdId: "hld_b" })).toMatchObject({
        ok: true,
        value: { released: 15 },
      });
      // New holds carry their owner.
      const h = await store.hold({
        tenant: "t",
        key: "h",
        amount: 10,
        drawOrder: ["paid"],
        ttlMs: 60_000,
        owner: "user:x:y",
      });
      if (!h.ok) throw new Error(h.code);
      expect(await store.holdStatus("t", h.value.holdId)).toMatchObject({ owner: "user:x:y" });
      expect(await store.release({ tenant: "t", key: "r2", holdId: h.value.holdId })).toEqual({
        ok: false,
        code: "hold_not_owned",
      });
      expect(await store.balances("t")).toMatchObject({ posted: { paid: 85 }, held: { paid: 10 } });
      expect(writtenWithoutRecords(await store.checkInvariants())).toEqual([]);
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

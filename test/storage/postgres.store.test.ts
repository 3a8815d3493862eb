/** PostgreSQL-only promises: migrations recorded once, history cannot be truncated. */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { initial } from "../../src/storage/postgres/migrations/index.js";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { createDatabase } from "../helpers/postgres.js";
import { insertDerived, v1Expected, v1Records, v1Row } from "./audit-v1-fixture.js";

describe("PostgreSQL store", () => {
  it("applies each migration once, also when instances start together", async () => {
    const url = await createDatabase("migrate");
    const stores = await Promise.all(
      Array.from({ length: 3 }, () => PostgresLedgerStore.open({ connectionString: url })),
    );
    for (const store of stores) expect(await store.schemaVersion()).toBe(5);
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT version, name FROM schema_migrations");
      expect(rows).toEqual([
        { version: 1, name: "initial" },
        { version: 2, name: "audit-query" },
        { version: 3, name: "hold-draws" },
        { version: 4, name: "hold-owner" },
        { version: 5, name: "tenant-status" },
      ]);
      await expect(client.query("TRUNCATE entries")).rejects.toThrow(/append-only/);
      await expect(client.query("TRUNCATE audit_records")).rejects.toThrow(/append-only/);
      await expect(client.query("TRUNCATE hold_draws")).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });

  it("names the first tampered record when someone bypasses the append-only trigger", async () => {
    const url = await createDatabase("tamper");
    const store = await PostgresLedgerStore.open({ connectionString: url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let i = 0; i < 4; i++) {
        await store.grant({
          tenant: "t",
          key: `g${i}`,
          class: "paid",
          amount: 10 + i,
          source: "s",
        });
      }
      await client.query("ALTER TABLE audit_records DISABLE TRIGGER audit_append_only");
      await client.query(
        `UPDATE audit_records SET data = replace(data, '"amount":12', '"amount":99') WHERE seq = 3`,
      );
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        brokenSeq: 3,
        reason: "hash_mismatch",
      });
    } finally {
      await client.end();
      await store.close();
    }
  });

  it("migrates a version-1 database with records to the current version, backfilling the query columns", async () => {
    const url = await createDatabase("v1");
    const records = v1Records();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)",
      );
      await client.query(initial.sql);
      await client.query("INSERT INTO schema_migrations VALUES (1, 'initial', 0)");
      for (const r of records) {
        await client.query(
          "INSERT INTO audit_records VALUES ($1, $2, $3, $4, $5, $6, $7)",
          v1Row(r),
        );
      }
      const last = records[records.length - 1]!;
      await client.query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", [
        last.seq,
        last.hash,
      ]);
      const store = await PostgresLedgerStore.open({ connectionString: url });
      try {
        expect(await store.schemaVersion()).toBe(5);
        const { rows } = await client.query(
          "SELECT seq::int, principal, decision_id FROM audit_records ORDER BY seq",
        );
        expect(rows).toEqual(v1Expected);
        expect(rows).toEqual(insertDerived());
        await expect(client.query("UPDATE audit_records SET principal = 'x'")).rejects.toThrow(
          /append-only/,
        );
        expect(await store.auditRecords(0, 10)).toEqual(records);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, count: records.length });
        expect((await store.queryAudit({ principal: "carol", limit: 10 })).records).toEqual([
          records[5],
        ]);
        const event = await store.recordEvent({ kind: "policy", tenant: null, data: { v: 2 } });
        expect(event.auditSeq).toBe(records.length + 1);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, count: records.length + 1 });
      } finally {
        await store.close();
      }
    } finally {
      await client.end();
    }
  });
});

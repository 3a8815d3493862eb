/** PostgreSQL-only promises: migrations recorded once, history cannot be truncated. */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { createDatabase } from "../helpers/postgres.js";

describe("PostgreSQL store", () => {
  it("applies each migration once, also when instances start together", async () => {
    const url = await createDatabase("migrate");
    const stores = await Promise.all(
      Array.from({ length: 3 }, () => PostgresLedgerStore.open({ connectionString: url })),
    );
    for (const store of stores) expect(await store.schemaVersion()).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT version, name FROM schema_migrations");
      expect(rows).toEqual([{ version: 1, name: "initial" }]);
      await expect(client.query("TRUNCATE entries")).rejects.toThrow(/append-only/);
      await expect(client.query("TRUNCATE audit_records")).rejects.toThrow(/append-only/);
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
});

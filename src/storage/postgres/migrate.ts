/** Versioned migrations, applied at start-up under an advisory lock so instances do not race. */
import type pg from "pg";
import { CreditgateError } from "../../errors.js";
import { auditQuery, holdDraws, holdOwner, initial, tenantStatus } from "./migrations/index.js";

const postgresMigrations: readonly { version: number; name: string; sql: string }[] = [
  initial,
  auditQuery,
  holdDraws,
  holdOwner,
  tenantStatus,
];

const migrationLockKey = 0x6372_6764; // "crgd"

export async function migratePostgres(pool: pg.Pool, nowMs: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)",
    );
    const done = new Set(
      (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map(
        (r) => r.version,
      ),
    );
    for (const m of postgresMigrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query(m.sql);
      } catch (error) {
        throw new CreditgateError("STORE_MIGRATION_FAILED", {
          message: `PostgreSQL migration ${m.version} (${m.name}) failed`,
          cause: error,
        });
      }
      await client.query(
        "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)",
        [m.version, m.name, nowMs],
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return schemaVersionPostgres(pool);
}

export async function schemaVersionPostgres(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ v: number | null }>(
    "SELECT MAX(version) AS v FROM schema_migrations",
  );
  return rows[0]?.v ?? 0;
}

/** Versioned migrations, applied at start-up in one transaction each, recorded with their time. */
import type Database from "better-sqlite3";
import { CreditgateError } from "../../errors.js";
import { auditQuery, holdDraws, holdOwner, initial, tenantStatus } from "./migrations/index.js";

const sqliteMigrations: readonly { version: number; name: string; sql: string }[] = [
  initial,
  auditQuery,
  holdDraws,
  holdOwner,
  tenantStatus,
];

export function migrateSqlite(db: Database.Database, nowMs: number): number {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)",
  );
  const apply = db.transaction((m: { version: number; name: string; sql: string }) => {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)").run(
      m.version,
      m.name,
      nowMs,
    );
  });
  for (const m of sqliteMigrations) {
    // IMMEDIATE: two processes starting together must not both apply a version.
    const applied = db
      .prepare("SELECT 1 FROM schema_migrations WHERE version = ?")
      .get(m.version) as unknown;
    if (applied !== undefined) continue;
    try {
      apply.immediate(m);
    } catch (error) {
      const again = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").get(m.version);
      if (again !== undefined) continue;
      throw new CreditgateError("STORE_MIGRATION_FAILED", {
        message: `SQLite migration ${m.version} (${m.name}) failed`,
        cause: error,
      });
    }
  }
  return schemaVersionSqlite(db);
}

export function schemaVersionSqlite(db: Database.Database): number {
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
    v: number | null;
  };
  return row.v ?? 0;
}

/**
 * The raw baselines: per debit one transaction with one conditional UPDATE and one INSERT, no
 * ledger logic, no audit. Same database settings as the ledger it is compared with.
 */
import type Database from "better-sqlite3";
import type pg from "pg";

export function sqliteRaw(db: Database.Database, tenants: number, fund: number) {
  db.exec(`CREATE TABLE raw_balances (tenant TEXT PRIMARY KEY, available INTEGER NOT NULL) WITHOUT ROWID;
           CREATE TABLE raw_entries (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, amount INTEGER NOT NULL)`);
  const insert = db.prepare("INSERT INTO raw_balances VALUES (?, ?)");
  db.transaction(() => {
    for (let t = 0; t < tenants; t++) insert.run(`t${t}`, fund);
  })();
  const update = db.prepare(
    "UPDATE raw_balances SET available = available - ? WHERE tenant = ? AND available >= ?",
  );
  const entry = db.prepare("INSERT INTO raw_entries (tenant, amount) VALUES (?, ?)");
  const debit = db.transaction((tenant: string, amount: number) => {
    if (update.run(amount, tenant, amount).changes !== 1) return false;
    entry.run(tenant, -amount);
    return true;
  });
  return async (tenant: string, amount: number): Promise<boolean> =>
    debit.immediate(tenant, amount);
}

export async function postgresRaw(pool: pg.Pool, tenants: number, fund: number) {
  await pool.query(`CREATE TABLE raw_balances (tenant TEXT PRIMARY KEY, available BIGINT NOT NULL);
                    CREATE TABLE raw_entries (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant TEXT NOT NULL, amount BIGINT NOT NULL)`);
  await pool.query(
    "INSERT INTO raw_balances SELECT 't' || g, $1 FROM generate_series(0, $2 - 1) g",
    [fund, tenants],
  );
  return async (tenant: string, amount: number): Promise<boolean> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const r = await client.query(
        "UPDATE raw_balances SET available = available - $1 WHERE tenant = $2 AND available >= $1 RETURNING available",
        [amount, tenant],
      );
      if (r.rowCount !== 1) {
        await client.query("ROLLBACK");
        return false;
      }
      await client.query("INSERT INTO raw_entries (tenant, amount) VALUES ($1, $2)", [
        tenant,
        -amount,
      ]);
      await client.query("COMMIT");
      return true;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
}

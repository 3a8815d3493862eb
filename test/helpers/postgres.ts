/** A fresh database on the run's PostgreSQL server, for one test file. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export function postgresUrl(database: string): string {
  const { host, port, user, password } = inject("postgres");
  return `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}

export async function createDatabase(prefix = "cg"): Promise<string> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl("postgres") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return postgresUrl(name);
}

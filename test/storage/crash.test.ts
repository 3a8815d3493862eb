/**
 * Crash test: a child process debiting in a loop is killed with SIGKILL at seeded random moments.
 * After each kill the store is reopened: every debit the child saw acknowledged is present with
 * its entry and its audit record, no partial transaction exists, the invariants hold and the
 * chain verifies. The seed is printed on failure (set CREDITGATE_CRASH_SEED to replay).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { LedgerStore } from "../../src/ledger/port.js";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { createDatabase } from "../helpers/postgres.js";
import { seededRandom, spawnWorker } from "./children.js";

const rounds = 4;
const seed = Number(process.env.CREDITGATE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const dir = mkdtempSync(join(tmpdir(), "creditgate-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Query = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

async function crashRounds(
  kind: "sqlite" | "postgres",
  target: string,
  open: () => Promise<{ store: LedgerStore; query: Query; close: () => Promise<void> }>,
) {
  const random = seededRandom(seed);
  const acked = new Map<string, string>();
  {
    const { store, close } = await open();
    expect(
      (
        await store.grant({
          tenant: "c",
          key: "fund",
          class: "paid",
          amount: 1_000_000,
          source: "crash",
        })
      ).code,
    ).toBe("ok");
    await close();
  }
  for (let round = 0; round < rounds; round++) {
    const child = spawnWorker("crash-worker.ts", [kind, target, "c", String(round)]);
    await child.waitFor((l) => l === "ready");
    // Let it reach a steady stream of acknowledgements, then kill it at a random point.
    await child.waitFor((l) => l.startsWith("ack "));
    await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 300)));
    child.process.kill("SIGKILL");
    await child.exited;
    for (const line of child.lines) {
      const [word, key, transferId] = line.split(" ");
      if (word === "ack") acked.set(key!, transferId!);
    }
    const { store, query, close } = await open();
    try {
      // Every acknowledged debit is there, with its entry, its idempotency record and its audit record.
      const entries = await query(
        "SELECT transfer_id FROM entries WHERE tenant = $1 AND kind = 'debit'",
        ["c"],
      );
      const transfers = new Set(entries.map((r) => String(r.transfer_id)));
      const missing = [...acked].filter(([, id]) => !transfers.has(id));
      expect(missing, `seed ${seed}`).toEqual([]);
      // No partial transaction: each debit has exactly one idempotency row and one audit record.
      const idem = await query(
        "SELECT COUNT(*) AS n FROM idempotency WHERE tenant = $1 AND op = 'debit'",
        ["c"],
      );
      const audit = await query(
        "SELECT COUNT(*) AS n FROM audit_records WHERE tenant = $1 AND kind = 'debit'",
        ["c"],
      );
      expect(Number(idem[0]!.n), `seed ${seed}`).toBe(transfers.size);
      expect(Number(audit[0]!.n), `seed ${seed}`).toBe(transfers.size);
      expect(transfers.size).toBeGreaterThanOrEqual(acked.size);
      expect((await store.checkInvariants()).problems, `seed ${seed}`).toEqual([]);
      expect((await store.verifyAudit()).ok).toBe(true);
      // A retry of an acknowledged key after the crash answers the original result.
      const [key, transferId] = [...acked][acked.size - 1]!;
      const retry = await store.debit({ tenant: "c", key, amount: 1, drawOrder: ["paid"] });
      expect(retry).toMatchObject({ code: "exists", value: { transferId } });
    } finally {
      await close();
    }
  }
  expect(acked.size).toBeGreaterThan(0);
}

describe(`crash recovery (seed ${seed})`, () => {
  it("SQLite keeps every acknowledged debit across SIGKILL", async () => {
    const path = join(dir, "crash.db");
    await crashRounds("sqlite", path, async () => {
      const store = SqliteLedgerStore.open({ path });
      const db = new Database(path, { readonly: true });
      return {
        store,
        query: async (sql, params) =>
          db.prepare(sql.replace(/\$\d+/g, "?")).all(...params) as Record<string, unknown>[],
        close: async () => {
          db.close();
          await store.close();
        },
      };
    });
  });

  it("PostgreSQL keeps every acknowledged debit across SIGKILL", async () => {
    const url = await createDatabase("crash");
    await crashRounds("postgres", url, async () => {
      const store = await PostgresLedgerStore.open({ connectionString: url });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        store,
        query: async (sql, params) =>
          (await client.query(sql, params)).rows as Record<string, unknown>[],
        close: async () => {
          await client.end();
          await store.close();
        },
      };
    });
  });
});

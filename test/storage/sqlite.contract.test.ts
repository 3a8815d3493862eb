import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll } from "vitest";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { describeStoreContract } from "./contract.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-sqlite-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract({
  name: "sqlite",
  async open(clock, options = {}) {
    const path = join(dir, `ledger-${++n}.db`);
    const store = SqliteLedgerStore.open({ path, clock, ...options });
    const raw = new Database(path);
    return {
      store,
      async raw(sql) {
        const stmt = raw.prepare(sql);
        if (stmt.reader) return stmt.all();
        stmt.run();
        return [];
      },
      async close() {
        raw.close();
        await store.close();
      },
    };
  },
});

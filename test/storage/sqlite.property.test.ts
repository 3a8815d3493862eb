import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { SqliteLedgerStore } from "../../src/storage/sqlite/store.js";
import { modelPropertyTest } from "./model-property.js";

const dir = mkdtempSync(join(tmpdir(), "creditgate-sqlite-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sqlite store against the model", () => {
  modelPropertyTest(async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const path = join(dir, "model.db");
    const store = SqliteLedgerStore.open({ path, clock });
    const raw = new Database(path, { readonly: true });
    return {
      clock,
      sut: {
        store,
        raw: async (sql) => raw.prepare(sql).all(),
        close: async () => {
          raw.close();
          await store.close();
        },
      },
    };
  }, 100);
});

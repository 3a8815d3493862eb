import pg from "pg";
import { describe } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { createDatabase } from "../helpers/postgres.js";
import { modelPropertyTest } from "./model-property.js";

describe("postgres store against the model", () => {
  modelPropertyTest(async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const url = await createDatabase("model");
    const store = await PostgresLedgerStore.open({ connectionString: url, clock });
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    return {
      clock,
      sut: {
        store,
        raw: async (sql) => (await raw.query(sql)).rows,
        close: async () => {
          await raw.end();
          await store.close();
        },
      },
    };
  }, 100);
});

import pg from "pg";
import { PostgresLedgerStore } from "../../src/storage/postgres/store.js";
import { createDatabase } from "../helpers/postgres.js";
import { describeStoreContract } from "./contract.js";

describeStoreContract({
  name: "postgres",
  async open(clock, options = {}) {
    const url = await createDatabase("contract");
    const store = await PostgresLedgerStore.open({ connectionString: url, clock, ...options });
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    return {
      store,
      async raw(sql) {
        return (await raw.query(sql)).rows;
      },
      async close() {
        await raw.end();
        await store.close();
      },
    };
  },
});

/** The SQLite driver: a file at `store.sqlite.path` (its directory created). No feed. */
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CreditgateError, isCreditgateError } from "../../errors.js";
import { registerStoreDriver } from "../driver.js";
import { SqliteLedgerStore } from "./store.js";

registerStoreDriver("sqlite", {
  async open(config, options) {
    const section = config.store.sqlite;
    if (section === undefined) {
      throw new CreditgateError("CONFIG_INVALID", {
        message: "store.kind is sqlite but store.sqlite is not configured",
      });
    }
    const path = resolve(section.path);
    try {
      await mkdir(dirname(path), { recursive: true });
      return SqliteLedgerStore.open({ path, synchronous: section.synchronous, ...options });
    } catch (cause) {
      if (isCreditgateError(cause)) throw cause;
      throw new CreditgateError("STORE_UNAVAILABLE", {
        message: `cannot open the SQLite store at ${path}: ${(cause as Error).message}`,
        cause,
      });
    }
  },
});
